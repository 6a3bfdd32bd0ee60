"""The notebooks as lessons: they import the installed package, store no errors, and keep main-path prose short."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
LESSONS_DONE = [p.name for p in NOTEBOOKS]  # every notebook follows the course's rules for lessons


def cells(path):
    return json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_imports_the_installed_package_and_stores_no_error(path):
    for i, c in enumerate(cells(path)):
        src = "".join(c["source"])
        if "cloud-setup" not in c["metadata"].get("tags", []):  # only Colab/Kaggle's set-up cell puts its clone there
            assert "sys.path.insert" not in src, f"cell {i} edits sys.path: import the installed course_utils instead"
        assert all(o.get("output_type") != "error" for o in c.get("outputs", [])), f"cell {i} stores an error"


@pytest.mark.parametrize("name", LESSONS_DONE)
def test_main_path_markdown_cells_stay_short(name):
    path = next(p for p in NOTEBOOKS if p.name == name)
    for i, c in enumerate(cells(path)):
        if c["cell_type"] == "markdown":
            main = re.sub(r"(?s)<details>.*?</details>", "", "".join(c["source"]))
            main = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", main)  # images (the launch badges) are not words
            assert len(main.split()) <= 150, f"cell {i}: {len(main.split())} words outside <details> (at most ~150)"


def test_every_notebook_carries_the_cloud_badges_and_first_cell():
    import subprocess
    import sys
    tool = Path(__file__).resolve().parent.parent / "tools" / "colab.py"
    out = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    for path in NOTEBOOKS:
        tagged = [i for i, c in enumerate(cells(path)) if "cloud-setup" in c["metadata"].get("tags", [])]
        first_code = next(i for i, c in enumerate(cells(path)) if c["cell_type"] == "code")
        assert tagged == [first_code], f"{path.name}: the cloud cell must be the one and first code cell"


def _load_cleaner():
    import importlib.util
    path = Path(__file__).resolve().parent.parent / "tools" / "clean_notebooks.py"
    spec = importlib.util.spec_from_file_location("clean_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_notebooks_carry_no_volatile_noise():
    dirty = _load_cleaner().dirty()
    assert not dirty, f"run `make tidy`: {[p.name for p in dirty]} store re-run counts, timings or widget state"


def test_cleaning_drops_noise_keeps_outputs_and_is_idempotent(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    widget = {"model_id": "0123abcd", "version_major": 2, "version_minor": 0}
    warning = "/tmp/x.py:3: UserWarning: the cache is stale\n  warnings.warn(msg)\n"
    tqdm = "\r  0%|          | 0/40 [00:00<?, ?it/s]\r 45%|████▌     | 18/40 [00:02<00:02, 8.91it/s]\n"
    code = new_code_cell("train()", execution_count=7, metadata={
        "tags": ["keep-me"], "ExecuteTime": {"end_time": "2026-11-30T16:41:19Z"}, "collapsed": False,
        "execution": {"iopub.status.idle": "2026-11-30T16:41:23Z"}, "jupyter": {"outputs_hidden": False}})
    code.outputs = [
        new_output("stream", name="stdout", text="epoch 1: loss 0.52\n"),
        new_output("stream", name="stdout", text="epoch 2: loss 0.41\n"),  # the same stream, split by timing
        new_output("stream", name="stderr", text=tqdm),
        new_output("stream", name="stderr", text=warning),
        new_output("display_data", data={"application/vnd.jupyter.widget-view+json": widget,
                                         "text/plain": "HBox(children=(FloatProgress(value=0.0),))"}),
        new_output("execute_result", data={"text/plain": "0.91", "image/png": "iVBORw0KGgo="}, execution_count=7),
    ]
    nb = new_notebook(cells=[new_markdown_cell("# Title"), code], metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"},
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"0123abcd": {}}}}})
    path = tmp_path / "noisy.ipynb"
    nbformat.write(nb, path)
    ids = [c.id for c in nb.cells]

    cleaner = _load_cleaner()
    assert cleaner.main(["--check", str(path)]) == 1
    assert cleaner.main([str(path)]) == 0
    once = path.read_text(encoding="utf-8")
    assert cleaner.main(["--check", str(path)]) == 0 and cleaner.dirty([tmp_path]) == []
    assert cleaner.main([str(path)]) == 0 and path.read_text(encoding="utf-8") == once  # idempotent
    assert once.endswith("}\n") and "\n \"cells\": [" in once  # Jupyter's own layout (indent 1)

    clean = json.loads(once)
    assert clean["metadata"] == {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                                 "language_info": {"name": "python"}}
    assert [c["id"] for c in clean["cells"]] == ids
    cell = clean["cells"][1]
    assert cell["metadata"] == {"tags": ["keep-me"]} and cell["execution_count"] == 1  # as a run from the top counts
    stdout, stderr, display, result = cell["outputs"]
    assert "".join(stdout["text"]) == "epoch 1: loss 0.52\nepoch 2: loss 0.41\n"  # one stream, one output
    assert stderr["name"] == "stderr" and "".join(stderr["text"]) == warning
    assert display["data"] == {"text/plain": ["HBox(children=(FloatProgress(value=0.0),))"]}
    assert result["execution_count"] == 1
    assert result["data"] == {"text/plain": ["0.91"], "image/png": "iVBORw0KGgo="}


def test_the_instructor_guides_timing_table_is_read_from_the_committed_benchmarks():
    import subprocess
    import sys
    tool = Path(__file__).resolve().parent.parent / "tools" / "guide_times.py"
    out = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_readmes_quick_run_times_are_the_committed_measurements():
    from course_utils import results

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    times = results.run_times()
    for row in re.findall(r"^\| (\d\d\w?) \| \[[^\]]+\]\(notebooks/([\w.]+)\) \| [^|]+ \| ([^|]+) \|", readme, re.M):
        number, notebook, quick = row
        seconds = times.get(notebook, {}).get("quick")  # a notebook the timing run has not met yet: say so
        measured = "not yet measured" if seconds is None else results.format_seconds(seconds)
        assert quick.strip() == measured, f"README's quick time for {notebook}: {quick.strip()!r}, measured {measured}"


def test_every_notebook_links_the_glossary_and_every_link_finds_its_term():
    # the glossary notebook beside the notebooks (tools/glossary.py writes it from docs/glossary.md, and points
    # `../docs/glossary.md#term` links at it); `tools/colab.py --check` above checks that it is up to date
    root = Path(__file__).resolve().parent.parent
    glossary = (root / "docs" / "glossary.md").read_text()
    anchors = {re.sub(r"[^\w\- ]", "", t.lower()).replace(" ", "-") for t in re.findall(r"^### (.+)$", glossary, re.M)}
    for path in NOTEBOOKS:
        text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
        assert "](../" not in text, f"{path.name} links a file outside notebooks/: run `python tools/colab.py`"
        links = re.findall(r"\]\(reference/glossary\.ipynb(?:#([\w-]+))?\)", text)
        assert links, f"{path.name} never links the glossary"
        missing = [a for a in links if a and a not in anchors]
        assert not missing, f"{path.name} links glossary terms that docs/glossary.md does not define: {missing}"
