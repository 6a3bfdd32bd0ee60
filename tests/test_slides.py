"""`make slides`: the presenter sequence (cells tagged `presenter`) as a reveal.js deck from the committed outputs."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def presenter_cells():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if "presenter" in cell["metadata"].get("tags", []):
                yield path.name, cell


def test_every_presenter_cell_has_something_to_show():
    cells = list(presenter_cells())
    assert len(cells) >= 6
    assert {name[:2] for name, _ in cells} >= {"01", "03", "04"}  # soft labels, the gain figure, the API
    for name, cell in cells:
        shown = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {}) or o.get("text")]
        assert cell["cell_type"] == "markdown" or shown, f"{name}: a presenter cell with no stored output"


def test_the_deck_has_a_slide_per_presenter_cell(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "slides.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    html = (tmp_path / "presenter.slides.html").read_text()
    cells = list(presenter_cells())
    assert html.count("<h3 id=") == len(cells)  # one titled slide per cell (after the title slide)
    figures = sum(any("image/png" in o.get("data", {}) for o in c.get("outputs", [])) for _, c in cells)
    assert html.count("data:image/png") >= figures
    assert "def distill(" not in html  # outputs only: the code stays in the notebooks
