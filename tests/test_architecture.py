"""ARCHITECTURE.md describes the library as it is: every module in its table, and no module it names is missing."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def documented() -> set[str]:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    rows = re.findall(r"^\| `([\w/]+)` \|", text, re.M)
    return {r.rstrip("/") for r in rows}


def modules() -> set[str]:
    lib = ROOT / "course_utils"
    names = {p.stem for p in lib.glob("*.py") if p.stem != "__init__"}
    return names | {p.name for p in lib.iterdir() if p.is_dir() and (p / "__init__.py").exists()}


def test_every_module_is_in_the_architecture_table():
    missing = sorted(modules() - documented())
    assert not missing, f"ARCHITECTURE.md's table lacks {missing}: add a row (module, what it holds, used by)"


def test_the_table_names_no_module_that_is_gone():
    gone = sorted(documented() - modules())
    assert not gone, f"ARCHITECTURE.md's table names {gone}, which course_utils no longer has"


def test_imports_go_one_way():
    """No module imports a study, plots, widgets or checks except those allowed above it (ARCHITECTURE.md)."""
    lib = ROOT / "course_utils"
    high = {"plots", "widgets", "checks"}
    for path in lib.glob("*.py"):
        if path.stem in high or path.stem.endswith("_study") or path.stem == "__init__":
            continue
        imported = set(re.findall(r"^from \.(?:(\w+)| import ([\w, ]+))", path.read_text(), re.M))
        names = {a or b for a, b in imported}
        flat = {n.strip() for group in names for n in group.split(",")}
        up = sorted(n for n in flat if n in high or n.endswith("_study"))
        assert not up, f"course_utils/{path.name} imports {up}, which sit above it"
