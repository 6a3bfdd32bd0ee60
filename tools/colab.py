"""The cloud routes: launch badges (Colab, Kaggle, Binder, SageMaker Studio Lab) in every notebook's title cell, and
a first code cell that, on Colab or Kaggle, fetches the course at its pinned version and makes it importable (on a
local install, Binder or Studio Lab it does nothing: the course is already there).

Every route points at one repository and one ref: pyproject's Repository URL, and the release tag `v<version>` from
pyproject's version (so a notebook opened from a badge runs with the library of the same release). The same tool
rewrites every other place that names them: the README's badges, pyproject, CITATION.cff, the instructor guide's
nbgitpuller link (which follows a branch: `main`, or --branch), and the notebooks' links (tools/glossary.py: the
glossary notebook beside the notebooks, other files as their page on GitHub at the ref). Running it again changes
nothing.

Usage: python tools/colab.py [--repo OWNER/NAME] [--branch REF] [--check]
  --repo    the public GitHub repository (default: pyproject's Repository URL); a fork or a mirror runs this
            once to point every notebook, badge and link at itself
  --branch  a branch or tag to point every route at instead of the release tag (a fork's branch, a term's
            branch); without it, a new version in pyproject moves every route to its tag
  --check   change nothing; exit 1 when a notebook or file differs from what this tool writes, or when LICENSE,
            LICENSE-CONTENT.md or CITATION.cff is missing or does not match pyproject
Publishing a release: set pyproject's version, run this, commit, then `git tag v<version>` and push the tag
(the badges and the cloud cell name it).
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
TAG = "cloud-setup"
PYPROJECT = ROOT / "pyproject.toml"

# Pure Python (no ! or % magics): it must also run where cells are executed as plain Python. On Kaggle, whose
# image is Colab's and also sets COLAB_RELEASE_TAG, Kaggle's variable is checked first. The clone records the ref
# it was fetched at (.git/course-ref): a re-run finds it in place, a notebook of another release moves it to its own.
# At most 30 lines, as every code cell.
CELL = '''\
# On Colab or Kaggle this cell fetches the course at its pinned version; on your own install it does nothing.
import importlib.util, os, subprocess, sys
from pathlib import Path
COURSE_REPO, COURSE_REF = "{url}", "{ref}"
cloud = "/kaggle/working" if "KAGGLE_KERNEL_RUN_TYPE" in os.environ else \\
    "/content" if "COLAB_RELEASE_TAG" in os.environ or "google.colab" in sys.modules else None
if cloud:
    def git(*args):
        done = subprocess.run(["git", *args], capture_output=True, text=True)
        if done.returncode:  # Kaggle's notebooks start with the internet off
            raise RuntimeError(f"git {{args[0]}}: {{done.stderr.strip()}}\\nWithout the internet git cannot fetch "
                               "the course: on Kaggle, switch it on (Settings > Internet) and run this cell again.")
    repo, ref = os.environ.get("COURSE_REPO", COURSE_REPO), os.environ.get("COURSE_REF", COURSE_REF)
    clone = Path(os.environ.get("COURSE_HOME", cloud)) / "distillation-lab"
    mark = clone / ".git" / "course-ref"  # the version this clone was fetched at
    was = mark.read_text() if mark.exists() else None
    if not clone.exists():
        git("clone", "--quiet", "--depth", "1", "--branch", ref, repo, str(clone))
    elif was != ref:  # another version, or a clone that did not record its version
        git("-C", str(clone), "fetch", "--quiet", "--depth", "1", "origin", ref)
        git("-C", str(clone), "checkout", "--quiet", "--detach", "FETCH_HEAD")
    mark.write_text(ref)
    missing = [m for m in ("torch", "torchvision", "matplotlib", "numpy", "tqdm", "ipywidgets")
               if importlib.util.find_spec(m) is None]  # Colab and Kaggle ship them (keep their ipywidgets)
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *missing], check=True)
    sys.path.insert(0, str(clone))
    os.chdir(clone / "notebooks")
    did = "found it at" if was == ref else f"moved it from {{was}} to" if was else "fetched"
    print(f"the course is in {{clone}} ({{did}} {{ref}}); on a GPU runtime the full profile runs (Runtime > Change runtime type)")
'''

BADGES = {  # alt text: (badge image, launch URL with {repo}, {ref} and {path})
    "Open in Colab": ("https://colab.research.google.com/assets/colab-badge.svg",
                      "https://colab.research.google.com/github/{repo}/blob/{ref}/{path}"),
    "Open in Kaggle": ("https://kaggle.com/static/images/open-in-kaggle.svg",
                       "https://kaggle.com/kernels/welcome?src=https://github.com/{repo}/blob/{ref}/{path}"),
    "Launch Binder": ("https://mybinder.org/badge_logo.svg",
                      "https://mybinder.org/v2/gh/{repo}/{ref}?labpath={path}"),
    "Open in SageMaker Studio Lab": ("https://studiolab.sagemaker.aws/studiolab.svg",
                                     "https://studiolab.sagemaker.aws/import/github/{repo}/blob/{ref}/{path}"),
}
BADGE_LINE = re.compile(r"^\[!\[Open in Colab\].*$", re.M)
NAME = r"[\w.-]+/[\w.-]+"  # OWNER/NAME
REF = r"[\w.-]+"


def pyproject_value(pattern: str, what: str) -> str:
    found = re.search(pattern, PYPROJECT.read_text(), re.M)
    if not found:
        raise SystemExit(f"pyproject.toml has no {what}: add it" + (", or pass --repo OWNER/NAME" if "Repo" in what else ""))
    return found.group(1)


def default_repo() -> str:
    """OWNER/NAME from pyproject's [project.urls] Repository."""
    return pyproject_value(r'^Repository = "https://github.com/([^"]+?)/?"', '[project.urls] Repository = "https://github.com/OWNER/NAME"')


def version() -> str:
    return pyproject_value(r'^version = "([^"]+)"', '[project] version = "X.Y.Z"')


def default_ref() -> str:
    """The release tag of pyproject's version, which the badges open and the cloud cell clones."""
    return f"v{version()}"


def blob_url(repo: str | None = None, ref: str | None = None) -> str:
    """Where a file of the course is shown on GitHub: https://github.com/OWNER/NAME/blob/REF."""
    return f"https://github.com/{repo or default_repo()}/blob/{ref or default_ref()}"


def cell_source(repo: str, ref: str) -> str:
    return CELL.format(url=f"https://github.com/{repo}", ref=ref)


def badges(repo: str, ref: str, notebook: str) -> str:
    """One markdown line: open this notebook from the repository at `ref` on each cloud route."""
    path = f"notebooks/{notebook}"
    return " ".join(f"[![{alt}]({image})]({url.format(repo=repo, ref=ref, path=path)})"
                    for alt, (image, url) in BADGES.items())


def apply(nb, repo: str, ref: str, notebook: str):
    """The notebook with its badge line (after the title) and its cloud cell (the first code cell) up to date."""
    title = nb.cells[0]
    line = badges(repo, ref, notebook)
    if BADGE_LINE.search(title.source):
        title.source = BADGE_LINE.sub(lambda _: line, title.source)
    else:
        head, _, rest = title.source.partition("\n")
        title.source = f"{head}\n\n{line}\n{rest}"
    existing = [c for c in nb.cells if TAG in c.metadata.get("tags", [])]
    if existing:
        existing[0].source = cell_source(repo, ref)
    else:
        first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        cell = nbformat.v4.new_code_cell(cell_source(repo, ref), metadata={"tags": [TAG]})
        nb.cells.insert(first_code, cell)
    return nb


def rewrites(repo: str, ref: str, hub_branch: str) -> dict[Path, list[tuple[str, str]]]:
    """For each file outside the notebooks: (pattern, replacement) pairs that point it at `repo` and `ref`."""
    owner, name = repo.split("/")
    urls = [(rf"(https://colab\.research\.google\.com/github/){NAME}/blob/{REF}/", rf"\g<1>{repo}/blob/{ref}/"),
            (rf"(kaggle\.com/kernels/welcome\?src=https://github\.com/){NAME}/blob/{REF}/", rf"\g<1>{repo}/blob/{ref}/"),
            (rf"(https://mybinder\.org/v2/gh/){NAME}/{REF}", rf"\g<1>{repo}/{ref}"),
            (rf"(https://studiolab\.sagemaker\.aws/import/github/){NAME}/blob/{REF}/", rf"\g<1>{repo}/blob/{ref}/"),
            (rf"(`github\.com/){NAME}`", rf"\g<1>{repo}`")]
    return {
        ROOT / "README.md": urls,
        ROOT / "docs" / "instructor.md": urls + [
            (r"(git-pull\?repo=https%3A%2F%2Fgithub\.com%2F)[\w.-]+%2F[\w.-]+&branch=[\w.-]+",
             rf"\g<1>{owner}%2F{name}&branch={hub_branch}"),
            (r"(git-pull\?[^`\s]*urlpath=lab%2Ftree%2F)[\w.-]+(%2Fnotebooks)", rf"\g<1>{name}\g<2>")],  # the clone's folder
        PYPROJECT: [(r'^(Repository = "https://github\.com/)[^"]+', rf"\g<1>{repo}")],
        ROOT / "LICENSE-CONTENT.md": [(rf"(\(https://github\.com/){NAME}\)", rf"\g<1>{repo})")],
        ROOT / "CITATION.cff": [(rf'^(repository-code: "https://github\.com/){NAME}"', rf'\g<1>{repo}"'),
                                (r'^version: "[^"]*"', f'version: "{version()}"')],
    }


def licence_problems() -> list[str]:
    """What is missing for others to reuse and cite the course."""
    problems = []
    code, content = ROOT / "LICENSE", ROOT / "LICENSE-CONTENT.md"
    if not code.exists() or not code.read_text().startswith("MIT License"):
        problems.append("LICENSE (the MIT licence, for the code) is missing")
    if not content.exists() or "CC BY 4.0" not in content.read_text():
        problems.append("LICENSE-CONTENT.md (CC BY 4.0, for the notebooks' text and figures) is missing")
    citation = ROOT / "CITATION.cff"
    if not citation.exists() or "cff-version:" not in citation.read_text():
        problems.append("CITATION.cff is missing")
    return problems


def main(argv=None) -> int:
    import glossary  # beside this file

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", default=None, help="OWNER/NAME on GitHub (default: pyproject's Repository URL)")
    parser.add_argument("--branch", default=None, help="a branch or tag instead of the release tag v<version>")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if something is out of date")
    args = parser.parse_args(argv)
    old_repo, repo = default_repo(), args.repo or default_repo()
    ref = args.branch or default_ref()
    stale = []
    for path in glossary.notebooks():
        before = path.read_text()
        nb = apply(nbformat.reads(before, as_version=4), repo, ref, path.name)
        after = nbformat.writes(nb) + "\n"
        if after != before:
            stale.append(path.name)
            if not args.check:
                path.write_text(after)
    for path, pairs in rewrites(repo, ref, args.branch or "main").items():
        if not path.exists():
            continue
        before = after = path.read_text()
        for pattern, replacement in pairs:
            after = re.sub(pattern, replacement, after, flags=re.M)
        if after != before:
            stale.append(path.name)
            if not args.check:
                path.write_text(after)
    stale += [s for s in glossary.update(blob_url(repo, ref), {old_repo, repo}, check=args.check) if s not in stale]
    problems = licence_problems()
    for problem in problems:
        print(problem)
    if args.check and stale:
        print(f"out of date (run `python tools/colab.py`): {', '.join(stale)}")
    if problems or (args.check and stale):
        return 1
    print(f"{'checked' if args.check else 'wrote'} badges, cloud cells and links for github.com/{repo} at {ref}"
          + (f"; changed {', '.join(stale)}" if stale and not args.check else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
