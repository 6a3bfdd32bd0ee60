"""Notebook 06's experiment from the command line: the declared comparison at several thread counts, and what
each part of the run costs.

    python bench/lm_study.py --threads 1 2 4 --out bench/results/cpu/06_threads.json
    python bench/lm_study.py --threads 1 --set student_steps=200 seeds=3 --out /tmp/06_variant.json

Each thread count runs in a process of its own (OMP_NUM_THREADS and torch.set_num_threads), which calls the same
functions as the notebook: lm_study.train_teacher, then lm_study.run_students (every student of every seed and
the budget sweep). It records the declared comparison (KL of the text-only student minus the written-only one,
paired by seed), each student's KL to the truth and capability on sums seen and unseen, and the CPU and wall
seconds of each part. --set changes fields of the study (a design choice to try), which the JSON records.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import config, files, lm_study, stats  # noqa: E402


def timed(fn):
    """fn(), with the CPU seconds (all threads) and wall seconds it took."""
    cpu, wall = time.process_time(), time.perf_counter()
    value = fn()
    return value, {"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


def one(threads: int, profile: str, changes: dict) -> dict:
    """The notebook's run at `threads` threads, summarised."""
    torch.set_num_threads(threads)
    device = config.get_device("cpu")
    study = replace(lm_study.get_study(profile), **changes)
    teacher, teacher_time = timed(lambda: lm_study.train_teacher.__wrapped__(study, device))
    run, students_time = timed(lambda: lm_study.run_students.__wrapped__(teacher.model, study, device, progress=False))
    kl = lm_study.per_seed(run.students, "kl_to_truth")
    summary = lm_study.primary(run, study)
    return {"threads": threads, "torch_threads": torch.get_num_threads(), "profile": profile, "changes": changes,
            "primary": {"comparison": f"KL({study.primary[0]}) - KL({study.primary[1]})",
                        "reading": stats.format_interval(summary, unit="nats/word", scale=1.0, digits=4),
                        **{k: summary[k] for k in ("mean", "lo", "hi", "n", "diffs")}},
            "teacher": vars(teacher.measures),
            "students": {row["student"]: {k: row[k] for k in ("kl_to_truth", "capability", "sums_seen", "seen_right",
                                                              "unseen_right")}
                         for row in lm_study.table_rows(run.students)},
            "kl_mean": {name: sum(v) / len(v) for name, v in kl.items()},
            "sweep": lm_study.table_rows(run.sweep, group="budget"),
            "seconds": {"teacher": teacher_time, "students_and_sweep": students_time}}


def parse_changes(pairs: list[str]) -> dict:
    names = {f.name for f in fields(lm_study.LMStudy)}
    changes = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in names or not value:
            raise SystemExit(f"--set takes field=value with a field of lm_study.LMStudy ({sorted(names)}), "
                             f"got {pair!r}")
        changes[key] = ast.literal_eval(value)
    return changes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--profile", default="quick", choices=sorted(lm_study.STUDIES))
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE", help="change fields of the study")
    ap.add_argument("--out", default=None, help="JSON to write (default: print only)")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # a child process: one thread count
    args = ap.parse_args()
    changes = parse_changes(args.set)
    if args.one is not None:
        print(json.dumps(one(args.one, args.profile, changes), default=float))
        return
    runs = []
    for t in args.threads:
        env = {**os.environ, "OMP_NUM_THREADS": str(t), "MKL_NUM_THREADS": str(t), "COURSE_PROFILE": args.profile}
        cmd = [sys.executable, __file__, "--one", str(t), "--profile", args.profile, "--set", *args.set]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = runs[-1]
        cpu = {part: f"{s['cpu_s']:.0f} s" for part, s in r["seconds"].items()}
        print(f"{t} thread(s): {r['primary']['comparison']} {r['primary']['reading']}; CPU {cpu}", flush=True)
    record = {"machine": config.describe(), "command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d"),
              "runs": runs}
    if args.out:
        text = json.dumps(record, indent=1, default=float)
        path = files.write_atomic(Path(args.out), lambda tmp: tmp.write_text(text))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
