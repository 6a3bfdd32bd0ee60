"""bench/: every script starts, and run_notebooks.py executes real notebooks with a Jupyter kernel."""
from __future__ import annotations

import ast
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "bench").glob("*.py"))


def run(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """A bench script run with this Python from the repository root, as the README shows."""
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def write_notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_bench_script_starts(script):
    r = run(str(script.relative_to(ROOT)), "--help", timeout=120)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_course_utils_name_a_bench_script_uses_exists(script):
    """`--help` imports the modules but calls nothing: a renamed function would only fail mid-benchmark."""
    tree = ast.parse(script.read_text())
    modules = {a.asname or a.name: importlib.import_module(f"course_utils.{a.name}")
               for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "course_utils"
               for a in node.names}
    missing = [f"{n.value.id}.{n.attr} (line {n.lineno})" for n in ast.walk(tree)
               if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in modules
               and not hasattr(modules[n.value.id], n.attr)]
    assert not missing, f"{script.name} uses names course_utils no longer has: {missing}"


def test_run_notebooks_writes_the_executed_notebook_its_results_and_timings(tmp_path):
    nb = write_notebook(tmp_path / "tiny.ipynb", "from course_utils import results\n"
                        "path = results.save('tiny', {'x': 1})\nprint(path)", "y = 2 + 2\ny")
    out = tmp_path / "out"
    r = run("bench/run_notebooks.py", str(nb), "--out", str(out), env={"COURSE_PROFILE": "quick"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tiny.ipynb: ok" in r.stdout  # the progress line
    saved = json.loads((out / "tiny.json").read_text())  # results.save honoured COURSE_RESULTS_DIR
    assert saved["x"] == 1 and saved["profile"] == "quick"
    executed = nbformat.read(out / "tiny.ipynb", as_version=4)
    assert str(out / "tiny.json") in executed.cells[0].outputs[0]["text"]
    assert executed.cells[1].outputs[0]["data"]["text/plain"] == "4"
    timings = json.loads((out / "notebook_timings.json").read_text())
    (run_,) = timings["runs"]
    assert run_["notebook"] == "tiny.ipynb" and run_["ok"] and timings["profile"] == "quick"
    assert len(run_["cell_seconds"]) == 2 and all(s is not None and s >= 0 for s in run_["cell_seconds"])


def test_a_failing_notebook_gives_a_nonzero_exit_and_is_still_written(tmp_path):
    nb = write_notebook(tmp_path / "broken.ipynb", "x = 1", "raise RuntimeError('boom')", "x = 3")
    out = tmp_path / "out"
    r = run("bench/run_notebooks.py", str(nb), "--out", str(out))
    assert r.returncode != 0
    assert "broken.ipynb: FAILED at cell 1" in r.stdout
    (run_,) = json.loads((out / "notebook_timings.json").read_text())["runs"]
    assert not run_["ok"] and run_["failed_cell"] == 1 and "boom" in run_["error"]
    assert run_["cell_seconds"][2] is None  # never ran
    executed = nbformat.read(out / "broken.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["output_type"] == "error"  # the reviewer sees the traceback
