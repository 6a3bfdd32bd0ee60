"""The glossary beside the notebooks, so that a term's link opens its definition wherever a notebook is opened.

docs/glossary.md is the one to edit. This tool writes it as a notebook, notebooks/reference/glossary.ipynb (one
cell per term, each with an anchor named like GitHub's heading anchors: `temperature-t`), and points the notebooks'
links at it: `../docs/glossary.md#temperature-t` becomes `reference/glossary.ipynb#temperature-t`. A relative link
to a notebook resolves wherever the course is opened: JupyterLab serving the repository (`make lab`) opens the
glossary in a tab at the term; Colab, opened from GitHub, opens it as a notebook; the site (tools/site.py) turns it
into a link to its glossary page. Links to any other file outside notebooks/ (the instructor guide) become its page
on GitHub at the course's pinned ref, which opens from anywhere with the internet.

Running it again changes nothing (authors may keep writing `../docs/glossary.md#term`: the next run rewrites it).
tools/colab.py runs it too.

Usage: python tools/glossary.py [--check]     (--check: change nothing, exit 1 when something is out of date)
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "docs" / "glossary.md"
NOTEBOOK = ROOT / "notebooks" / "reference" / "glossary.ipynb"
TARGET = "reference/glossary.ipynb"  # the glossary, relative to a notebook in notebooks/
LINK = re.compile(r"\]\((\.\./[^)\s#]+)(#[\w-]+)?\)")  # a markdown link out of notebooks/: ](../path#anchor)


def slug(title: str) -> str:
    """The anchor GitHub gives a markdown heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def terms(text: str) -> tuple[str, list[tuple[str, str]]]:
    """docs/glossary.md as its introduction and its (title, definition) pairs, in order."""
    parts = re.split(r"^### (.+)$", text, flags=re.M)  # [intro, title, body, title, body, ...]
    return parts[0].strip(), [(t.strip(), b.strip()) for t, b in zip(parts[1::2], parts[2::2])]


def anchors() -> set[str]:
    """Every term's anchor, as the notebooks' links name them."""
    return {slug(title) for title, _ in terms(SOURCE.read_text(encoding="utf-8"))[1]}


def glossary_notebook() -> nbformat.NotebookNode:
    """The glossary as a notebook: its introduction, then one markdown cell per term, each opening with an
    HTML anchor (JupyterLab names its heading ids `Temperature-(T)`, so the anchor gives the link's name)."""
    intro, entries = terms(SOURCE.read_text(encoding="utf-8"))
    cells = [nbformat.v4.new_markdown_cell(intro, id="glossary-intro")]
    for title, body in entries:
        cells.append(nbformat.v4.new_markdown_cell(f'<a id="{slug(title)}"></a>\n\n## {title}\n\n{body}',
                                                   id=f"term-{slug(title)}"[:64]))
    return nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"generated_from": "docs/glossary.md", "by": "tools/glossary.py"}})


def relink(source: str, github: str, repos=()) -> str:
    """A notebook's markdown with its links out of notebooks/ rewritten: the glossary to the notebook beside it,
    any other file to `github` + its path (its page at the pinned ref). Links already pointing at a file of one of
    `repos` (OWNER/NAME: the course under its old and new name) on GitHub move to `github` too."""
    def one(m: re.Match) -> str:
        path, anchor = m.group(1), m.group(2) or ""
        if path == "../docs/glossary.md":
            return f"]({TARGET}{anchor})"
        return f"]({github}/{path[len('../'):]}{anchor})"
    source = LINK.sub(one, source)
    for repo in repos:
        source = re.sub(rf"\]\(https://github\.com/{re.escape(repo)}/blob/[\w.-]+/", f"]({github}/", source)
    return source


def notebooks() -> list[Path]:
    """The course's notebooks (the glossary itself excluded)."""
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def update(github: str, repos=(), check: bool = False) -> list[str]:
    """Write the glossary notebook and relink every notebook (`github`: the repository's blob URL at its ref,
    https://github.com/OWNER/NAME/blob/REF; `repos`: see relink). Returns what was (or, with check, would be)
    changed."""
    stale = []
    text = nbformat.writes(glossary_notebook()) + "\n"
    if not NOTEBOOK.exists() or NOTEBOOK.read_text(encoding="utf-8") != text:
        stale.append(str(NOTEBOOK.relative_to(ROOT)))
        if not check:
            NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
            NOTEBOOK.write_text(text, encoding="utf-8")
    for path in notebooks():
        before = path.read_text(encoding="utf-8")
        nb = nbformat.reads(before, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = relink(cell.source, github, repos)
        after = nbformat.writes(nb) + "\n"
        if after != before:
            stale.append(path.name)
            if not check:
                path.write_text(after, encoding="utf-8")
    return stale


def main(argv=None) -> int:
    from colab import blob_url, default_repo  # the repository and ref the cloud routes point at (tools/colab.py)

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if something is out of date")
    args = parser.parse_args(argv)
    stale = update(blob_url(), {default_repo()}, check=args.check)
    if args.check and stale:
        print(f"out of date (run `python tools/glossary.py`): {', '.join(stale)}")
        return 1
    print(f"{'checked' if args.check else 'wrote'} the glossary notebook and the notebooks' links"
          + (f"; changed {', '.join(stale)}" if stale and not args.check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
