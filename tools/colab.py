"""The cloud route: an "Open in Colab" / "Open in Kaggle" badge in every notebook's title cell, and a first code
cell that, on Colab or Kaggle, fetches the course and makes it importable (and does nothing on a local install).

Usage: python tools/colab.py [--repo OWNER/NAME] [--check]
  --repo   the public GitHub repository the badges and the cell point at (default: pyproject's Repository URL);
           a fork or a mirror runs this once to point every notebook, the README's badges and pyproject at itself
  --check  change nothing; exit 1 when a notebook's badges or cloud cell differ from what this tool writes
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TAG = "cloud-setup"

# Pure Python (no ! or % magics): it must also run where cells are executed as plain Python. On Kaggle, whose
# image is Colab's and also sets COLAB_RELEASE_TAG, Kaggle's variable is checked first.
CELL = '''\
# On Colab or Kaggle this cell fetches the course; on your own install it does nothing.
import importlib.util, os, subprocess, sys
from pathlib import Path

COURSE_REPO = "{url}"
cloud = "/kaggle/working" if "KAGGLE_KERNEL_RUN_TYPE" in os.environ else \\
    "/content" if "COLAB_RELEASE_TAG" in os.environ or "google.colab" in sys.modules else None
if cloud:
    clone = Path(os.environ.get("COURSE_HOME", cloud)) / "distillation-lab"
    if not (clone / "course_utils").is_dir():
        subprocess.run(["git", "clone", "--depth", "1", os.environ.get("COURSE_REPO", COURSE_REPO), str(clone)], check=True)
    # Colab and Kaggle ship these; install only what is missing (and keep their ipywidgets, which their page renders)
    missing = [m for m in ("torch", "torchvision", "matplotlib", "numpy", "tqdm", "ipywidgets")
               if importlib.util.find_spec(m) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    sys.path.insert(0, str(clone))
    os.chdir(clone / "notebooks")
    print(f"the course is in {{clone}}; on a GPU runtime the full profile runs (Runtime > Change runtime type)")
'''

COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
KAGGLE_BADGE = "https://kaggle.com/static/images/open-in-kaggle.svg"
BADGE_LINE = re.compile(r"^\[!\[Open in Colab\].*$", re.M)


def default_repo() -> str:
    """OWNER/NAME from pyproject's [project.urls] Repository."""
    found = re.search(r'^Repository = "https://github.com/([^"]+?)/?"', (ROOT / "pyproject.toml").read_text(), re.M)
    if not found:
        raise SystemExit("pyproject.toml has no [project.urls] Repository = \"https://github.com/OWNER/NAME\": "
                         "add it, or pass --repo OWNER/NAME")
    return found.group(1)


def cell_source(repo: str) -> str:
    return CELL.format(url=f"https://github.com/{repo}")


def badges(repo: str, notebook: str) -> str:
    """One markdown line: open this notebook from the repository's main branch on Colab or Kaggle."""
    colab = f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{notebook}"
    kaggle = f"https://kaggle.com/kernels/welcome?src=https://github.com/{repo}/blob/main/notebooks/{notebook}"
    return f"[![Open in Colab]({COLAB_BADGE})]({colab}) [![Open in Kaggle]({KAGGLE_BADGE})]({kaggle})"


def apply(nb, repo: str, notebook: str):
    """The notebook with its badge line (after the title) and its cloud cell (the first code cell) up to date."""
    title = nb.cells[0]
    line = badges(repo, notebook)
    if BADGE_LINE.search(title.source):
        title.source = BADGE_LINE.sub(lambda _: line, title.source)
    else:
        head, _, rest = title.source.partition("\n")
        title.source = f"{head}\n\n{line}\n{rest}"
    existing = [c for c in nb.cells if TAG in c.metadata.get("tags", [])]
    if existing:
        existing[0].source = cell_source(repo)
    else:
        first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        cell = nbformat.v4.new_code_cell(cell_source(repo), metadata={"tags": [TAG]})
        nb.cells.insert(first_code, cell)
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", default=None, help="OWNER/NAME on GitHub (default: pyproject's Repository URL)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is out of date")
    args = parser.parse_args(argv)
    repo = args.repo or default_repo()
    stale = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        before = path.read_text()
        nb = apply(nbformat.reads(before, as_version=4), repo, path.name)
        after = nbformat.writes(nb) + "\n"
        if after != before:
            stale.append(path.name)
            if not args.check:
                path.write_text(after)
    for path, pattern, replacement in (
            (ROOT / "README.md", r"(colab\.research\.google\.com/github/|`github\.com/)[\w.-]+/[\w.-]+", rf"\g<1>{repo}"),
            (ROOT / "pyproject.toml", r'^(Repository = "https://github\.com/)[^"]+', rf"\g<1>{repo}")):
        before = path.read_text()
        after = re.sub(pattern, replacement, before, flags=re.M)
        if after != before:
            stale.append(path.name)
            if not args.check:
                path.write_text(after)
    if args.check and stale:
        print(f"out of date (run `python tools/colab.py`): {', '.join(stale)}")
        return 1
    print(f"{'checked' if args.check else 'wrote'} badges and cloud cells for github.com/{repo}"
          + (f"; changed {', '.join(stale)}" if stale and not args.check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
