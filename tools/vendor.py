"""Front-end files the built site and slides carry with them, so that they open with no internet: MathJax (math)
and reveal.js (slides), from their npm packages at pinned versions.

A package is fetched once with `npm pack` (the npm registry) into .vendor/ (git-ignored), unpacked there, and the
files a page needs are copied beside it. Without npm, put the tarball (`npm pack mathjax@3.2.2` on another machine)
into .vendor/ and the build takes it from there.
"""
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".vendor"
MATHJAX = ("mathjax", "3.2.2")  # the last MathJax 3: es5/tex-chtml.js, which Sphinx's math extension expects
REVEAL = ("reveal.js", "4.0.2")  # the version nbconvert's reveal template is written for

# what a page loads at run time (the rest of each package is sources, other builds and tests)
MATHJAX_FILES = ["es5/tex-chtml.js", "es5/output/chtml/fonts/woff-v2", "es5/input/tex/extensions", "es5/ui",
                 "es5/a11y", "LICENSE"]
REVEAL_FILES = ["dist/reveal.js", "dist/reveal.css", "dist/reset.css", "dist/theme/white.css",
                "dist/theme/fonts/source-sans-pro", "plugin/notes", "LICENSE"]


def package(name: str, version: str) -> Path:
    """The unpacked npm package (its `package/` folder), fetched with `npm pack` the first time. Safe when two
    builds run at once (test workers): each fetches and unpacks in a folder of its own, then renames it in place."""
    unpacked = CACHE / f"{name}-{version}"
    if (unpacked / "package" / "package.json").exists():
        return unpacked / "package"
    CACHE.mkdir(exist_ok=True)
    tarball = CACHE / f"{name}-{version}.tgz"
    with tempfile.TemporaryDirectory(dir=CACHE, prefix=f".{name}-") as tmp:
        if not tarball.exists():
            npm = shutil.which("npm")
            if npm is None:
                raise SystemExit(f"npm is not installed, and {tarball.relative_to(ROOT)} is not there: install "
                                 f"Node.js and npm (Debian: apt-get install npm), or copy the tarball of "
                                 f"{name}@{version} (`npm pack {name}@{version}`) into {CACHE.relative_to(ROOT)}/")
            done = subprocess.run([npm, "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
                                  capture_output=True, text=True, timeout=300)
            fetched = Path(tmp) / tarball.name
            if done.returncode != 0 or not fetched.exists():
                raise SystemExit(f"`npm pack {name}@{version}` failed (is the npm registry reachable?):\n{done.stderr}")
            os.replace(fetched, tarball)
        with tarfile.open(tarball) as tar:
            tar.extractall(Path(tmp) / "unpacked", filter="data")
        try:
            os.rename(Path(tmp) / "unpacked", unpacked)
        except OSError:  # another build unpacked it first
            pass
    return unpacked / "package"


def copy(name: str, version: str, files: list[str], dest: Path) -> Path:
    """Copy the listed files and folders of an npm package into dest (replacing what was there); returns dest."""
    source = package(name, version)
    if dest.exists():
        shutil.rmtree(dest)
    for part in files:
        src, target = source / part, dest / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target)
        else:
            shutil.copy2(src, target)
    return dest


def mathjax(dest: Path) -> Path:
    """MathJax 3 in dest; a page loads dest/es5/tex-chtml.js."""
    return copy(*MATHJAX, MATHJAX_FILES, dest)


def reveal(dest: Path) -> Path:
    """reveal.js in dest; a deck loads dest/dist/reveal.js and dest/dist/reveal.css."""
    return copy(*REVEAL, REVEAL_FILES, dest)
