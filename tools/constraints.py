"""constraints.txt: the exact version of every package the course installs, read from an environment the tests
passed in, so that `make lab` and `make test` install the same versions months later.

It follows pyproject's dependencies and its extras (lab, test, docs) through the installed packages' own
requirements, for this Python and platform, and writes `name==version` for each package found. Run it with the
environment's Python after the tests pass (`make constraints`), then commit constraints.txt with the change that
needed it.

Usage: python tools/constraints.py [--out constraints.txt] [--check]
"""
import argparse
import platform
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("lab", "test", "docs")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wanted(req: Requirement, extras: set[str]) -> bool:
    """Whether a requirement applies here, for the extras it was asked with."""
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": e}) for e in (extras or {""}))


def pinned() -> tuple[dict[str, str], list[str]]:
    """{package: version} for everything pyproject's dependencies and extras pull in, and what was not installed."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    own = canonical(project["name"])
    queue = [(Requirement(r), set()) for r in project["dependencies"]]
    queue += [(Requirement(r), set()) for e in EXTRAS for r in project["optional-dependencies"].get(e, [])]
    versions, missing, seen = {}, [], set()
    while queue:
        req, extras = queue.pop()
        name = canonical(req.name)
        if not wanted(req, extras) or (name, frozenset(req.extras)) in seen or name == own:
            continue
        seen.add((name, frozenset(req.extras)))
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            missing.append(req.name)
            continue
        versions[name] = dist.version.split("+")[0]  # torch 2.14.1+cu130 -> 2.14.1: the CPU build matches too
        queue += [(Requirement(r), set(req.extras)) for r in dist.requires or []]
    return versions, sorted(set(missing) - set(versions))


def text() -> str:
    versions, _ = pinned()
    head = (f"# The versions the course's tests passed with (Python {platform.python_version()}, {platform.system()} "
            f"{platform.machine()}), written by tools/constraints.py (`make constraints`).\n"
            "# `make lab` and `make test` install with `-c constraints.txt`. To move a package on: upgrade it, run\n"
            "# `make test`, then `make constraints`, and commit this file with the change that needed it.\n")
    return head + "".join(f"{name}=={version}\n" for name, version in sorted(versions.items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "constraints.txt")
    parser.add_argument("--check", action="store_true", help="exit 1 if this environment differs from the file")
    args = parser.parse_args(argv)
    versions, missing = pinned()
    if missing:
        print(f"not installed here, so not pinned: {', '.join(missing)} (install pyproject's extras {EXTRAS} first)")
    if args.check:
        written = dict(re.findall(r"^([\w.-]+)==([^\s;]+)", args.out.read_text(), re.M))
        differ = {n: (written.get(n), v) for n, v in versions.items() if written.get(n) != v}
        for name, (pin, have) in sorted(differ.items()):
            print(f"{name}: constraints.txt says {pin}, installed {have}")
        return 1 if differ else 0
    args.out.write_text(text())
    print(f"wrote {args.out} ({len(versions)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
