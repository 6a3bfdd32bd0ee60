"""Student copies (`make student`): no solutions, no outputs, every exercise left to fill, and they still run,
with each exercise's checker answering "Not yet" instead of failing."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "student.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def sources(nb, kind=None):
    return ["".join(c["source"]) for c in nb["cells"] if kind is None or c["cell_type"] == kind]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_student_copy_keeps_the_exercises_and_drops_solutions_and_outputs(student, path):
    original, copy = json.loads(path.read_text()), json.loads((student / path.name).read_text())
    solutions = [s for s in sources(original) if s.lstrip().startswith(("## Solutions", "# Solution", "*Solution"))]
    assert all("solution" in c["metadata"].get("tags", []) for c in original["cells"]
               if "".join(c["source"]) in solutions), "untagged solution cell"
    assert not [s for s in sources(copy) if s in solutions]
    assert [s for s in sources(copy, "code") if s.startswith("# Exercise")] == \
        [s for s in sources(original, "code") if s.startswith("# Exercise")]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in copy["cells"] if c["cell_type"] == "code")
    assert "Student copy" in sources(copy)[1]
    assert (student / "reference" / "glossary.ipynb").exists()  # where the copies' glossary links lead


def test_the_tool_refuses_an_untagged_solution(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title"),
                                         nbformat.v4.new_code_cell("# Solution 1\nanswer = 42")])
    nbformat.write(nb, tmp_path / "x.ipynb")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "student.py"), "--out", str(tmp_path / "s"),
                           str(tmp_path / "x.ipynb")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "without the `solution` tag" in done.stdout
    assert not (tmp_path / "s" / "x.ipynb").exists()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_removing_the_solutions_cannot_break_a_student_copy(path):
    """No code a learner runs comes after a solution, so no cell of a copy can depend on a removed one; and each
    exercise cell, run with its blanks by nbval's quick run (the committed outputs), answers "Not yet"."""
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "solution" in c.metadata.get("tags", [])]
    if not tagged:
        return
    later_code = [c.source.splitlines()[0] for c in nb.cells[tagged[0]:]
                  if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])]
    assert not later_code, f"{path.name}: code after the first solution would run without it: {later_code}"
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("# Exercise"):
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert "Not yet" in text, f"{path.name}, {cell.source.splitlines()[0]!r} printed {text!r}"


def test_a_student_copy_runs_and_its_checkers_answer_not_yet(student, monkeypatch):
    """One copy runs top to bottom in a real kernel, in the demo profile: the whole route a learner takes.
    (The others differ from their notebooks, which nbval runs, only by the removed solutions; see above.)"""
    from nbclient import NotebookClient

    name = "01_soft_labels_and_temperature.ipynb"
    monkeypatch.setenv("COURSE_PROFILE", "demo")  # the kernel inherits it
    nb = nbformat.read(student / name, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(student)}}).execute()
    exercises = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# Exercise")]
    assert exercises
    for cell in exercises:
        text = "".join(o.get("text", "") for o in cell.outputs)
        assert "Not yet" in text, f"{name}, {cell.source.splitlines()[0]!r} printed {text!r}"
