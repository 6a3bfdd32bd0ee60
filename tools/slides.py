"""The ten-minute presenter sequence as reveal.js slides, built from the notebooks themselves.

The cells tagged `presenter` (in notebook order) become one slide each: the title is the notebook and the
section heading above the cell, the body is the cell's committed output (figures, printed tables). Nothing is
re-run, so the deck shows the outputs stored with the notebooks (quick profile, CPU). Change the sequence by
adding or removing the tag in JupyterLab (property inspector, "Cell Tags"); docs/instructor.md says what to
say on each slide.

The deck needs no internet: reveal.js and MathJax, from their npm packages at pinned versions (tools/vendor.py),
are copied beside it (slides/reveal.js/, slides/mathjax/), and nbconvert's reveal template is used through
tools/templates/offline_reveal, which loads them from there and scales each figure to fit its slide. Copy the
whole slides/ folder to present from another machine.

Usage: python tools/slides.py [--out slides]     then open slides/presenter.slides.html in a browser
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter

import vendor

ROOT = Path(__file__).resolve().parent.parent
TAG = "presenter"
TEMPLATES = Path(__file__).resolve().parent / "templates"
WIDTH, HEIGHT = 960, 700  # reveal.js's slide size, scaled to the screen
FIT_HEIGHT = 470  # a figure's height at most: the slide less its two title lines
REMOTE = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']https?://""", re.I)


def heading_above(cells, i) -> str:
    """The nearest markdown heading (##, ###) above cell i, without its number's markdown."""
    for cell in reversed(cells[:i]):
        found = re.search(r"^#{2,3} (.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
        if found:
            return found.group(1).strip()
    return ""


def deck() -> nbformat.NotebookNode:
    """One notebook: a title slide, then per tagged cell a heading slide-title and the cell's outputs."""
    slides = [nbformat.v4.new_markdown_cell(
        "# Distillation Lab\n\n*Knowledge distillation, learned by doing it: ten minutes of the course's results*")]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip()
        for i, cell in enumerate(nb.cells):
            if TAG not in cell.metadata.get("tags", []):
                continue
            slides.append(nbformat.v4.new_markdown_cell(f"### {title}\n\n**{heading_above(nb.cells, i)}**"))
            if cell.cell_type == "markdown":
                slides.append(nbformat.v4.new_markdown_cell(cell.source))
            else:
                slides.append(nbformat.v4.new_code_cell(cell.source, outputs=cell.outputs))
    for i, cell in enumerate(slides):
        starts = cell.cell_type == "markdown" and cell.source.startswith("#")
        cell.metadata["slideshow"] = {"slide_type": "slide" if starts else "-"}
        cell.id = f"slide-{i}"
    return nbformat.v4.new_notebook(cells=slides, metadata={"kernelspec": {"name": "python3",
                                                                           "display_name": "Python 3"}})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "slides", help="folder for the deck (default: slides/)")
    args = parser.parse_args(argv)
    nb = deck()
    if len(nb.cells) < 3:
        print(f"no cell is tagged `{TAG}` in notebooks/: tag the cells of the presenter sequence first")
        return 1
    exporter = SlidesExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                              template_name="offline_reveal", extra_template_basedirs=[str(TEMPLATES)],
                              reveal_url_prefix="reveal.js", reveal_width=str(WIDTH), reveal_height=str(HEIGHT),
                              mathjax_url="mathjax/es5/tex-chtml.js")
    body, _ = exporter.from_notebook_node(nb, resources={"fit_height": FIT_HEIGHT})
    remote = REMOTE.findall(body)
    if remote:
        print(f"the deck would load files from the internet ({remote[:3]}): tools/templates/offline_reveal "
              "must load them from beside the deck")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    vendor.reveal(args.out / "reveal.js")
    vendor.mathjax(args.out / "mathjax")
    target = args.out / "presenter.slides.html"
    target.write_text(body, encoding="utf-8")
    n = sum(c.metadata["slideshow"]["slide_type"] == "slide" for c in nb.cells)
    print(f"wrote {target} ({n} slides, {target.stat().st_size / 1e6:.1f} MB), with reveal.js "
          f"{vendor.REVEAL[1]} and MathJax {vendor.MATHJAX[1]} beside it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
