"""Measured figures in and out: a notebook saves what it measured as JSON, and reads committed
benchmark results (GPU figures, choices made on validation) by code, never by copying numbers into prose."""
from __future__ import annotations

import json
import os
from pathlib import Path

from . import config, files, numerics

BENCH_DIR = config.ROOT / "bench" / "results"  # committed benchmark JSON


def save(name: str, results: dict) -> Path:
    """Write a notebook's measured figures to $COURSE_RESULTS_DIR/<name>.json (bench/run_notebooks.py sets
    it), else <COURSE_WORK_DIR>/results/<name>.json (default data/results), with the profile, device and versions. Values: numbers, strings,
    lists, dicts."""
    folder = Path(os.environ.get("COURSE_RESULTS_DIR", config.WORK_DIR / "results"))
    path = folder / f"{name}.json"
    machine = {"profile": config.get_profile(), **config.describe()}
    chosen = numerics.chosen(machine["device"])
    machine["numerics"] = str(chosen) if chosen else "fp32 (no course net trained or run in this process)"
    taken = sorted(set(machine) & set(results))
    if taken:
        raise ValueError(f"results.save records {taken} itself (this run's machine and profile); "
                         f"name your figures differently, e.g. 'teacher_{taken[0]}'.")
    record = {**machine, **results}
    return files.write_atomic(path, lambda tmp: tmp.write_text(json.dumps(record, indent=1, default=float)))


def bench(relative: str) -> dict | None:
    """A committed benchmark result, e.g. bench("h100/03_distill.json"); None when it is not there."""
    path = BENCH_DIR / relative
    return json.loads(path.read_text()) if path.exists() else None


def run_times() -> dict:
    """Measured run time of each notebook, {notebook: {"quick": s, "demo": s, "full": s}}, from the committed
    timing records of bench/run_notebooks.py (cpu/notebook_timings_{quick,demo}.json, <gpu>/notebook_timings_full.json);
    a profile not measured for a notebook is absent."""
    sources = [("quick", BENCH_DIR / "cpu" / "notebook_timings_quick.json"),
               ("demo", BENCH_DIR / "cpu" / "notebook_timings_demo.json"),
               *(("full", p) for p in sorted(BENCH_DIR.glob("*/notebook_timings_full.json"))[:1])]
    times: dict = {}
    for profile, path in sources:
        if path.exists():
            for run in json.loads(path.read_text())["runs"]:
                if run["ok"]:
                    times.setdefault(run["notebook"], {})[profile] = run["seconds"]
    return times


def format_seconds(seconds: float | None) -> str:
    """'9 s', '77 s' or '3.9 min'; 'not measured' for None."""
    if seconds is None:
        return "not measured"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
