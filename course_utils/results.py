"""Measured figures in and out: a notebook saves what it measured as JSON, and reads committed
benchmark results (GPU figures, choices made on validation) by code, never by copying numbers into prose."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

from . import config, files, numerics

BENCH_DIR = config.ROOT / "bench" / "results"  # committed benchmark JSON


def save(name: str, results: dict) -> Path:
    """Write a notebook's measured figures to $COURSE_RESULTS_DIR/<name>.json (bench/run_notebooks.py sets
    it), else <COURSE_WORK_DIR>/results/<name>.json (default data/results), with the profile, device and versions. Values: numbers, strings,
    lists, dicts."""
    folder = config.env_folder("COURSE_RESULTS_DIR", config.WORK_DIR / "results")
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


class ResultsError(ValueError):
    """A committed results file is truncated, hand-edited or of another layout; the message names it and the fix."""


def read_json(path: Path | str, needs: tuple = ()) -> dict:
    """A committed JSON record, with the keys in `needs`; a damaged or older file gets a ResultsError that names it
    and how to restore it."""
    path = Path(path)
    where = path.relative_to(config.ROOT) if path.is_relative_to(config.ROOT) else path
    fix = f"Restore the committed file with `git checkout -- {where}`, or run again the bench script that writes it."
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ResultsError(f"{path} is not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}): a truncated "
                           f"or hand-edited file. {fix}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ResultsError(f"{path} cannot be read ({type(err).__name__}: {err}). {fix}") from err
    missing = [k for k in needs if not isinstance(record, dict) or k not in record]
    if missing:
        raise ResultsError(f"{path} lacks {missing}: it was written by another version of the course. {fix}")
    return record


def bench(relative: str) -> dict | None:
    """A committed benchmark result, e.g. bench("h100/03_distill.json"); None when it is not there."""
    path = BENCH_DIR / relative
    return read_json(path) if path.exists() else None


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
            try:
                runs = read_json(path, needs=("runs",))["runs"]
                measured = [(run["notebook"], run["seconds"]) for run in runs if run["ok"]]
            except (ResultsError, KeyError, TypeError) as err:  # the table is a courtesy: say so, go on without it
                warnings.warn(f"the {profile} run times are left out: {err}", stacklevel=2)
                continue
            for notebook, seconds in measured:
                times.setdefault(notebook, {})[profile] = seconds
    return times


PROFILE_TITLES = {"quick": "quick, 2-core CPU", "demo": "demo, same CPU", "full": "full, GPU"}


def run_time_table() -> tuple[list[dict], dict]:
    """(rows, columns) for show.table: each notebook's measured run time in each profile, 'not measured' where a
    profile has no record yet (the full profile until a run on a GPU is committed)."""
    times = run_times()
    rows = [{"notebook": name.removesuffix(".ipynb"), **{p: format_seconds(t.get(p)) for p in PROFILE_TITLES}}
            for name, t in sorted(times.items())]
    return rows, {"notebook": "notebook", **{title: p for p, title in PROFILE_TITLES.items()}}


def format_seconds(seconds: float | None) -> str:
    """'9 s', '77 s' or '3.9 min'; 'not measured' for None."""
    if seconds is None:
        return "not measured"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
