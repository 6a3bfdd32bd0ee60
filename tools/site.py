"""The course as a web page: every executed notebook as HTML (nbconvert's lab template), with figures, and an
index whose table of contents lists each notebook's sections. The notebooks are not re-run: the site shows the
outputs committed with them (quick profile, 2-core CPU), as GitHub would.

Usage: python tools/site.py [--out site]      then open site/index.html (no server needed)
"""
import argparse
import html
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
HEADING = re.compile(r'<h([12]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
NAV_STYLE = ("position:sticky;top:0;z-index:10;background:#f6f8fa;border-bottom:1px solid #d0d7de;"
             "padding:6px 16px;font:14px sans-serif")
PAGE_STYLE = "body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;line-height:1.5}" \
             "li{margin:.2em 0} .sections{font-size:90%;color:#444} h2 a{text-decoration:none}"


def text_of(fragment: str) -> str:
    """A heading's visible text: tags (such as nbconvert's anchor link) and the trailing pilcrow removed."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).replace("¶", "").strip()


def page(path: Path, exporter: HTMLExporter) -> tuple[str, list[tuple[int, str, str]]]:
    """The notebook as an HTML page, and its headings as (level, anchor, text)."""
    body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
    body = re.sub(r'href="(\d\d\w?_[\w-]+)\.ipynb', r'href="\1.html', body)  # links between notebooks
    body = body.replace('href="../docs/glossary.md', 'href="glossary.html')  # the glossary is a page of the site
    return body, [(int(level), anchor, text_of(inner)) for level, anchor, inner in HEADING.findall(body)]


def nav(names: list[str], i: int) -> str:
    links = ['<a href="index.html">Distillation Lab: contents</a>']
    if i > 0:
        links.append(f'<a href="{names[i - 1]}.html">&larr; {names[i - 1]}</a>')
    if i + 1 < len(names):
        links.append(f'<a href="{names[i + 1]}.html">{names[i + 1]} &rarr;</a>')
    return f'<nav class="course-nav" style="{NAV_STYLE}">' + " &nbsp;|&nbsp; ".join(links) + "</nav>"


def subtitle(path: Path) -> str:
    """The italic paragraph under a notebook's title, as plain text."""
    paragraphs = re.split(r"\n\s*\n", nbformat.read(path, as_version=4).cells[0].source)
    found = next((p.strip() for p in paragraphs if p.strip().startswith("*") and p.strip().endswith("*")), "")
    return re.sub(r"[*$]", "", found).replace("\n", " ")


def slug(title: str) -> str:
    """The anchor GitHub gives a markdown heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def glossary_page() -> str:
    """docs/glossary.md as a page whose headings carry GitHub's anchors, so the notebooks' links find them."""
    from nbconvert.filters import markdown2html

    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    parts = re.split(r"^### (.+)$", text, flags=re.M)  # [intro, title, body, title, body, ...]
    body = markdown2html(parts[0])
    for title, section in zip(parts[1::2], parts[2::2]):
        body += f'<h3 id="{slug(title)}">{html.escape(title)}</h3>' + markdown2html(section)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Glossary</title>"
            f"<style>{PAGE_STYLE}</style></head><body><p><a href='index.html'>Distillation Lab: contents</a></p>"
            f"{body}</body></html>")


def build(out: Path) -> list[Path]:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    names = [p.stem for p in notebooks]
    exporter = HTMLExporter(template_name="lab")
    out.mkdir(parents=True, exist_ok=True)
    entries, written = [], []
    for i, path in enumerate(notebooks):
        body, headings = page(path, exporter)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav(names, i), body, count=1)
        target = out / f"{path.stem}.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
        title = next((t for level, _, t in headings if level == 1), path.stem)
        sections = [f'<a href="{path.stem}.html#{a}">{html.escape(t.replace("$", ""))}</a>' for level, a, t in headings if level == 2]
        entries.append(f'<li><h2><a href="{path.stem}.html">{html.escape(title)}</a></h2>'
                       f"<p><em>{html.escape(subtitle(path))}</em></p>"
                       f'<p class="sections">{" · ".join(sections)}</p></li>')
    index = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Distillation Lab</title>"
             f"<style>{PAGE_STYLE}</style></head><body>"
             "<h1>Distillation Lab</h1>"
             "<p>An interactive course that teaches knowledge distillation by doing it. These pages show the "
             "notebooks as committed, executed in the <code>quick</code> profile on a CPU; to run them and move "
             "the sliders, open them in JupyterLab (<code>make lab</code>) or on Colab (the badge at the top of "
             "each page).</p>"
             "<p>The course's terms are defined in <a href='glossary.html'>the glossary</a>.</p>"
             f"<ol class='toc' style='list-style:none;padding:0'>{''.join(entries)}</ol></body></html>")
    (out / "index.html").write_text(index, encoding="utf-8")
    (out / "glossary.html").write_text(glossary_page(), encoding="utf-8")
    return [out / "index.html", out / "glossary.html", *written]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="folder for the site (default: site/)")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
