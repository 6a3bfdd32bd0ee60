"""The course site: the committed, executed notebooks as a Jupyter Book (Sphinx with sphinx-book-theme), with a
sidebar, search, a page outline, launch buttons (Colab, Binder), the glossary and the instructor guide as pages,
and math rendered by a MathJax copied beside the pages, so that the site works with no internet. Nothing is re-run.

The book is staged in a temporary folder from presentation copies; the notebooks themselves are never changed:
- the cloud set-up cell is removed (tagged remove-cell), and the title's launch badges too (the page has buttons);
- solution cells are folded: code behind a "Show the solution" toggle, markdown in a dropdown;
- nbval's markers (`# NBVAL_CHECK_OUTPUT` lines) are dropped from the code shown;
- links to the instructor guide on GitHub point at its page on the site.
Every notebooks/*.ipynb is a chapter, in file order (a new notebook appears without a change here).
The configuration is book/_config.yml; book/index.md is the home page; book/course.css the site's own styles.

Usage: python tools/site.py [--out site] [--pdf] [--keep STAGE]
  --pdf   also print the whole course into site/distillation-lab.pdf (one page of all chapters, printed by
          Chromium through Playwright: needs the test tools and Chromium, as the browser test does)
  --keep  stage the book in this folder and keep it (to inspect what Jupyter Book was given)
Then open site/index.html (no server needed).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml

import colab
import glossary
import vendor

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
PDF_NAME = "distillation-lab.pdf"
NBVAL_MARKER = re.compile(r"^[ \t]*# NBVAL_[A-Z_]+[ \t]*\n?", re.M)
ANCHOR = re.compile(r'<a id="[\w-]+"></a>\n*')
SOLUTION_TITLE = re.compile(r"^\*(Solution[^*:]*):?\*:?\s*")
SOLUTION_NUMBER = re.compile(r"^# Solution ([\w.]+)")
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.M)
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"  # Debian's, as the tests
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def jupyterlab_anchors(nb) -> dict[str, str]:
    """{JupyterLab's anchor of a heading (its text, spaces as hyphens): the site's (GitHub's slug)}."""
    titles = [t for c in nb.cells if c.cell_type == "markdown" for t in HEADING.findall(c.source)]
    return {t.replace(" ", "-"): glossary.slug(t) for t in titles}


def present(nb, github: str):
    """A notebook as the site shows it (see the module's docstring); the copy, not the file, is changed. `github`:
    the repository's files at the release (https://github.com/OWNER/NAME/blob/REF)."""
    nb.cells[0].source = colab.BADGE_LINE.sub("", nb.cells[0].source).replace("\n\n\n", "\n\n")
    anchors = jupyterlab_anchors(nb)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if colab.TAG in tags:
            tags.append("remove-cell")
        if cell.cell_type == "code":
            cell.source = NBVAL_MARKER.sub("", cell.source)
            if "solution" in tags:
                number = SOLUTION_NUMBER.match(cell.source)
                name = f"solution {number.group(1)}" if number else "the solution"
                tags.append("hide-cell")
                cell.metadata["mystnb"] = {"code_prompt_show": f"Show {name}", "code_prompt_hide": f"Hide {name}"}
        elif cell.cell_type == "markdown":
            # links as tools/glossary.py writes them (also where it has not run yet), the guide to its page
            cell.source = glossary.relink(cell.source, github).replace(f"{github}/docs/instructor.md", "instructor.md")
            cell.source = re.sub(r"\]\(#([^)\s]+)\)", lambda m: f"](#{anchors.get(m.group(1), m.group(1))})", cell.source)
            if "solution" in tags and not cell.source.lstrip().startswith("#"):  # the "## Solutions" heading stays
                title = SOLUTION_TITLE.match(cell.source)
                body = SOLUTION_TITLE.sub("", cell.source, count=1)
                cell.source = (f"::::{{dropdown}} {title.group(1) if title else 'Solution'}\n:class-container: "
                               f"solution\n\n{body}\n::::")
    return nb


def toc(chapters: list[str]) -> dict:
    return {"format": "jb-book", "root": "index", "parts": [
        {"caption": "The course", "chapters": [{"file": c} for c in chapters]},
        {"caption": "Reference", "chapters": [{"file": "reference/glossary"}, {"file": "instructor"}]}]}


def stage(folder: Path) -> None:
    """Everything Jupyter Book builds from, in `folder`."""
    repo, ref = colab.default_repo(), colab.default_ref()
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    config["repository"].update(url=f"https://github.com/{repo}", branch=ref)
    (folder / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    notebooks = glossary.notebooks()
    (folder / "_toc.yml").write_text(yaml.safe_dump(toc([p.stem for p in notebooks]), sort_keys=False))
    shutil.copy(BOOK / "index.md", folder / "index.md")
    shutil.copy(ROOT / "docs" / "instructor.md", folder / "instructor.md")
    for path in notebooks:
        nbformat.write(present(nbformat.read(path, as_version=4), colab.blob_url(repo, ref)), folder / path.name)
    terms = glossary.glossary_notebook()  # from docs/glossary.md, as tools/glossary.py writes it
    for cell in terms.cells:  # the site names its headings' anchors itself (the same names)
        cell.source = ANCHOR.sub("", cell.source)
    (folder / "reference").mkdir()
    nbformat.write(terms, folder / "reference" / "glossary.ipynb")
    static = folder / "_static"
    vendor.mathjax(static / "mathjax")
    shutil.copy(BOOK / "course.css", static / "course.css")


def jupyter_book(source: Path, output: Path, builder: str) -> tuple[float, str]:
    """Run `jupyter-book build`; returns its seconds and its warnings."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(source), "--path-output",
                           str(output), "--builder", builder], capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    if done.returncode != 0:
        raise SystemExit(f"jupyter-book build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    warnings = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if "WARNING" in line)
    return time.perf_counter() - start, warnings


def print_pdf(page_html: Path, target: Path) -> None:
    """One HTML page printed by Chromium (Playwright), once MathJax has typeset it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.route(re.compile(r"^https?://"), lambda route: route.abort())  # what the PDF shows is offline
            page.goto(page_html.as_uri(), wait_until="load")
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
            page.evaluate("() => MathJax.startup.promise")
            page.emulate_media(media="print")
            page.pdf(path=str(target), format="A4", print_background=True,
                     margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
        finally:
            browser.close()


def build(out: Path, pdf: bool = False, keep: Path | None = None) -> dict:
    """Build the site into out/ (and the PDF into out/); returns what was built and how long it took."""
    with tempfile.TemporaryDirectory(prefix="course-book-") as tmp:
        folder = keep or Path(tmp) / "book"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        stage(folder)
        seconds, warnings = jupyter_book(folder, Path(tmp) / "html", "html")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(Path(tmp) / "html" / "_build" / "html", out)
        report = {"site": out / "index.html", "seconds": seconds, "warnings": warnings}
        if pdf:
            single_seconds, _ = jupyter_book(folder, Path(tmp) / "single", "singlehtml")
            start = time.perf_counter()
            print_pdf(Path(tmp) / "single" / "_build" / "singlehtml" / "index.html", out / PDF_NAME)
            report.update(pdf=out / PDF_NAME, pdf_seconds=single_seconds + time.perf_counter() - start)
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="folder for the site (default: site/)")
    parser.add_argument("--pdf", action="store_true", help=f"also print the course into OUT/{PDF_NAME}")
    parser.add_argument("--keep", type=Path, default=None, help="stage the book in this folder and keep it")
    args = parser.parse_args(argv)
    report = build(args.out.resolve(), pdf=args.pdf, keep=args.keep.resolve() if args.keep else None)
    if report["warnings"]:
        print(report["warnings"])
    print(f"built {report['site']} in {report['seconds']:.0f} s")
    if args.pdf:
        size = report["pdf"].stat().st_size / 1e6
        print(f"printed {report['pdf']} ({size:.1f} MB) in {report['pdf_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
