"""Notebook 03's study from the command line (course_utils.distill_study): its learning-rate choice, and its primary
comparison on this machine.

    python bench/distill_study.py                                   # choose each student's learning rate
    python bench/distill_study.py --lrs 12 24 --arms hard --add     # extend one student's grid
    OMP_NUM_THREADS=2 python bench/distill_study.py --primary       # blended - hard at this thread count
    COURSE_CPU_NUMERICS=fp32 python bench/distill_study.py --primary
    python bench/distill_study.py --agree bench/results/cpu/distill_primary_*.json

Choosing: every student kind of the study at each learning rate over --seeds seeds (100, 101, ...: not the
notebook's), measured on the validation images (from CIFAR-10's test split); the best mean is each kind's rate,
written to the JSON notebook 03 reads (bench/results/cpu/distill_study_lr_quick.json, gpu/..._full.json).
--primary: the notebook's students of the primary comparison, with the threads and numerics of this process.
--agree: whether those runs' primaries exclude zero, and how far each pair of runs differs, paired by seed.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import checkpoints, config, data, distill_study, numerics, stats  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def setup(device, study: distill_study.Study):
    pool = distill_study.split(data.load_cifar10(device), study)
    teacher, _ = checkpoints.load_teacher(device, verbose=False)
    return pool, teacher


def machine(device) -> dict:
    info = config.describe()
    return {"device": info["device_name"], "torch": torch.__version__, "python": platform.python_version(),
            "threads": torch.get_num_threads(), "numerics": str(numerics.for_device(device, announce=False)),
            "command": "python bench/distill_study.py " + " ".join(sys.argv[1:])}


def choose(args, device, profile: str) -> None:
    study = distill_study.STUDIES[profile]
    out = Path(args.out) if args.out else distill_study.lr_choice_file(profile)
    seeds = [100 + s for s in range(args.seeds)]
    pool, teacher = setup(device, study)
    t0 = time.perf_counter()
    runs = distill_study.validation_runs(study, pool, teacher, {arm: args.lrs for arm in args.arms}, seeds)
    record = {"profile": profile, **machine(device), "data": pool.source, "n_val": len(pool.val_labels),
              "study": asdict(study) | {"lr": None}, "seeds": seeds, "runs": runs}
    if args.add and out.exists():
        earlier = json.loads(out.read_text())
        if earlier["seeds"] != seeds or earlier["study"] != record["study"]:
            raise SystemExit(f"--add needs the seeds and study of {out}: it has seeds {earlier['seeds']}, this run {seeds}")
        record["runs"] = earlier["runs"] + runs
        record["command"] = earlier["command"] + " ; " + record["command"]
    means, chosen = distill_study.choose_lr(record["runs"])
    record["mean_val_acc"] = {arm: {f"{lr:g}": m for lr, m in row.items()} for arm, row in means.items()}
    record["chosen_lr"] = chosen
    record["seconds"] = round(time.perf_counter() - t0, 1)
    for arm, row in means.items():
        print(f"{arm:16s} " + "  ".join(f"lr {lr:g}: {m:.2%}" for lr, m in row.items()) + f"  -> {chosen[arm]:g}")
    write(out, record)


def primary(args, device, profile: str) -> None:
    study = distill_study.get_study(profile)
    study = replace(study, seeds=args.seeds or study.seeds)
    pool, teacher = setup(device, study)
    t0, c0 = time.perf_counter(), time.process_time()
    students = distill_study.train_students.__wrapped__(study, pool, teacher, arms=distill_study.PRIMARY, device=device)
    record = {"profile": profile, **machine(device), **distill_study.record(study, pool, students),
              "seconds": round(time.perf_counter() - t0, 1), "cpu_seconds": round(time.process_time() - c0, 1)}
    g = distill_study.compare(students, *distill_study.PRIMARY)
    print(f"{record['threads']} threads, {record['numerics']}: blended - hard {stats.format_interval(g)} "
          f"over {g['n']} seeds")
    short = "fp32" if numerics.for_device(device).dtype == "float32" else "bf16"
    folder = RESULTS / ("cpu" if device.type == "cpu" else "gpu")
    write(Path(args.out) if args.out else folder / f"distill_primary_{record['threads']}threads_{short}.json", record)


def agree(args) -> None:
    """Each run's primary; and for each pair of runs (the same seeds, so the same labelled images and initial
    weights), the paired difference of their per-seed gains: an interval that includes zero is a change of threads
    or numerics these seeds cannot tell from noise."""
    runs = {Path(f).name: json.loads(Path(f).read_text()) for f in args.agree}
    gains = {name: [b - h for b, h in zip(r["accuracy"]["blended"], r["accuracy"]["hard"])] for name, r in runs.items()}
    rows, pairs = [], []
    for name, r in runs.items():
        p = r["primary"]
        rows.append({"file": name, "threads": r["threads"], "numerics": r["numerics"], "mean": p["mean"], "lo": p["lo"],
                     "hi": p["hi"], "n_seeds": p["n_seeds"], "excludes_zero": p["lo"] > 0 or p["hi"] < 0})
        print(f"{name:40s} {p['mean']:+.2f} [{p['lo']:+.2f}, {p['hi']:+.2f}] n={p['n_seeds']}, excludes 0: {rows[-1]['excludes_zero']}")
    names = list(runs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if runs[a]["seeds"] != runs[b]["seeds"]:
                continue
            g = stats.paired(gains[a], gains[b])
            pa, pb = runs[a]["primary"], runs[b]["primary"]
            pairs.append({"runs": [a, b], "difference": {k: 100 * g[k] for k in ("mean", "lo", "hi")},
                          "difference_includes_zero": not stats.excludes_zero(g),
                          "intervals_overlap": pa["lo"] <= pb["hi"] and pb["lo"] <= pa["hi"]})
            print(f"  {a} - {b}: {stats.format_interval(g)}; intervals overlap: {pairs[-1]['intervals_overlap']}")
    record = {"runs": rows, "pairs": pairs, "all_exclude_zero": all(r["excludes_zero"] for r in rows),
              "all_agree": all(p["difference_includes_zero"] for p in pairs),
              "all_overlap": all(p["intervals_overlap"] for p in pairs)}
    write(Path(args.out) if args.out else Path(args.agree[0]).parent / "distill_primary_agreement.json", record)


def write(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--primary", action="store_true", help="run the primary comparison instead of choosing rates")
    ap.add_argument("--agree", nargs="+", metavar="JSON", help="compare --primary runs' JSON files")
    ap.add_argument("--profile", default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--lrs", type=float, nargs="+", default=[0.75, 1.5, 3.0, 6.0, 12.0])
    ap.add_argument("--arms", nargs="+", default=list(distill_study.ARMS), choices=distill_study.ARMS)
    ap.add_argument("--seeds", type=int, default=None, help="choosing: 3; --primary: the study's")
    ap.add_argument("--add", action="store_true", help="add these runs to the --out file (same seeds) and choose again")
    ap.add_argument("--out", default=None, help="default: the file notebook 03 reads, or bench/results/cpu/...")
    args = ap.parse_args()
    if args.agree:
        return agree(args)
    device = config.get_device(args.device)
    profile = config.study_profile(args.profile or config.get_profile(device))
    if args.primary:
        return primary(args, device, profile)
    args.seeds = args.seeds or 3
    choose(args, device, profile)


if __name__ == "__main__":
    main()
