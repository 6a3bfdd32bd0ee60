"""Student copies: the notebooks without their solutions, outputs cleared, every exercise left ready to fill.

A solution is a cell tagged `solution` (the "## Solutions" heading, each "# Solution N" code cell and each
"*Solution N (sketch)*" note). Exercise cells stay: they start with `my_answer = None` and call a checker from
`course_utils.checks`, which answers "Not yet" until the learner fills them in.

Usage: python tools/student.py [--tag] [--out student] [notebooks...]
  --tag   (for authors) tag the solution cells of notebooks/*.ipynb in place, then exit
  --out   where the copies go (default: student/, git-ignored)

Why nbconvert's TagRemovePreprocessor and not nbgrader: the course's checkers are self-checks that explain a
mistake, not graded tests, and a tag plus one preprocessor needs no database or extra service. A graded class
can still run nbgrader on the student copies (its test cells can call the same checkers).
"""
import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parent.parent
TAG = "solution"
SOLUTION = re.compile(r"^(## Solutions\b|# Solution \d|# Quiz answers\b|\*Solution \d)")
BANNER = ("> **Student copy.** The solutions are removed; fill in the exercises and run their checkers. "
          "The full notebook, with solutions, is in the course's `notebooks/` folder.")


def is_solution(cell) -> bool:
    return bool(SOLUTION.match(cell.source.lstrip()))


def tag(nb):
    """Tag every solution cell (and only those) with `solution`; returns the notebook."""
    for cell in nb.cells:
        tags = [t for t in cell.metadata.get("tags", []) if t != TAG]
        if is_solution(cell):
            tags.append(TAG)
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
    return nb


def student_copy(nb):
    """A copy without the cells tagged `solution`, with outputs cleared and a banner under the title."""
    nb = nbformat.from_dict(nb)  # a deep copy
    nb, _ = TagRemovePreprocessor(remove_cell_tags={TAG}).preprocess(nb, {})
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(BANNER))
    for i, cell in enumerate(nb.cells):
        cell.id = f"student-{i}"  # ids unique within the copy
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--tag", action="store_true", help="tag the solution cells in place, then exit")
    parser.add_argument("--out", type=Path, default=ROOT / "student", help="folder for the student copies")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if args.tag:
            before = nbformat.writes(nb)
            if nbformat.writes(tag(nb)) != before:
                path.write_text(nbformat.writes(nb) + "\n")
                print("tagged", path.name)
            continue
        untagged = [i for i, c in enumerate(nb.cells) if is_solution(c) != (TAG in c.metadata.get("tags", []))]
        if untagged:
            print(f"{path.name}: cells {untagged} are solutions without the `{TAG}` tag (or tagged but not "
                  f"solutions); run `python tools/student.py --tag`")
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        copy = student_copy(nb)
        nbformat.write(copy, args.out / path.name)
        removed = len(nb.cells) - len(copy.cells) + 1
        print(f"{args.out.name}/{path.name}: {removed} solution cells removed, {len(copy.cells)} cells")
    glossary = ROOT / "notebooks" / "reference"  # the notebooks' glossary links lead there (tools/glossary.py)
    if not args.tag and glossary.is_dir():
        shutil.copytree(glossary, args.out / "reference", dirs_exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
