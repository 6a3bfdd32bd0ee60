"""Strip volatile noise from notebooks but keep their outputs (nbval compares them), so that
re-executing a notebook changes no committed byte except outputs that depend on timing.
Usage: python tools/clean_notebooks.py [--check] [paths...]   (default: notebooks/*.ipynb)"""
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
CELL_NOISE = ("execution", "collapsed", "scrolled", "jupyter", "ExecuteTime")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# a tqdm redraw (carriage return not ending a line), a bar " 45%|████ |", or a rate "3.2it/s]" / "?it/s]"
PROGRESS = re.compile(r"\r(?!\n|$)|\d+%\|.*\||(?:it/s|s/it)\]")


def clean_output(out, count):
    """The output with its volatile parts removed, or None when nothing but a progress bar is left."""
    if "execution_count" in out:
        out["execution_count"] = count
    out.get("data", {}).pop(WIDGET_VIEW, None)  # widget model ids; the text/plain fallback stays
    if out.get("output_type") == "stream" and out.get("name") == "stderr":
        lines = re.findall(r"[^\n]*\n|[^\n]+$", out["text"])
        out["text"] = "".join(line for line in lines if not PROGRESS.search(line))
        return out if out["text"] else None
    return out


def merge_streams(outputs):
    """Adjacent outputs of the same stream joined: how a stream is split into chunks depends on timing."""
    merged = []
    for out in outputs:
        last = merged[-1] if merged else None
        if last is not None and out.get("output_type") == "stream" and last.get("output_type") == "stream" \
                and out.get("name") == last.get("name"):
            last["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def clean(nb):
    """Clean a notebook (an nbformat node) in place and return it; cell ids are kept as they are."""
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    count = 0
    for cell in nb.cells:
        for key in CELL_NOISE:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            # numbered 1, 2, 3, ... as one run from the top numbers them (nbval refuses outputs of a cell without a
            # count, as "unrun"), so the numbers do not depend on how often a cell was re-run while editing
            count += 1
            cell.execution_count = count
            cell.outputs = merge_streams([o for o in (clean_output(o, count) for o in cell.outputs) if o is not None])
    return nb


def cleaned_text(path):
    """The text the cleaned notebook at `path` would have (Jupyter's own formatting)."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    return nbformat.writes(clean(nb)) + "\n"


def notebooks(paths=()):
    """Notebooks named by `paths` (files, or folders searched recursively); notebooks/*.ipynb by default."""
    if not paths:
        return sorted((ROOT / "notebooks").glob("*.ipynb"))
    found = []
    for p in map(Path, paths):
        found += [p] if p.is_file() else sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
    return found


def dirty(paths=()):
    """The notebooks that cleaning would change."""
    return [p for p in notebooks(paths) if cleaned_text(p) != p.read_text(encoding="utf-8")]


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"]
    changed = dirty(paths)
    if check:
        if changed:
            print("notebooks not clean (run `make tidy`):", *changed, sep="\n  ")
        return 1 if changed else 0
    for p in changed:
        p.write_text(cleaned_text(p), encoding="utf-8")
        print("cleaned", p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
