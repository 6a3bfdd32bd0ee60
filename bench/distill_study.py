"""Notebook 03's choices, made on validation images that neither the teacher nor any student trains on.

    python bench/distill_study.py                      # this machine's profile: each arm's learning rate
    python bench/distill_study.py --profile quick --lrs 0.75 1.5 3

For every arm of course_utils.distill_study (hard labels, blended, label smoothing with matched softness,
shuffled teacher), trains the study's student at each learning rate over --seeds seeds (not the notebook's
seeds) and measures it on the study's validation split, drawn from CIFAR-10's test set. The rate with the
best mean validation accuracy is each arm's choice; notebook 03 reads it from the JSON written here
(bench/results/cpu/distill_study_lr_quick.json, bench/results/gpu/distill_study_lr_full.json).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import checkpoints, config, data, distill_study, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lrs", type=float, nargs="+", default=[0.75, 1.5, 3.0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--profile", default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--arms", nargs="+", default=list(distill_study.ARMS), choices=distill_study.ARMS)
    ap.add_argument("--labelled-per-class", type=int, default=None, help="override the study's (design exploration)")
    ap.add_argument("--epochs", type=int, default=None, help="override the study's")
    ap.add_argument("--alpha", type=float, default=None, help="override the study's")
    ap.add_argument("--T", type=float, default=None, help="override the study's")
    ap.add_argument("--add", action="store_true",
                    help="add these runs to the existing --out file (same seeds) and choose again, e.g. a rate "
                         "beyond the grid's edge for some arms")
    ap.add_argument("--out", default=None, help="default: the file notebook 03 reads for this profile")
    args = ap.parse_args()

    device = config.get_device(args.device)
    profile = args.profile or config.get_profile(device)
    study = distill_study.STUDIES[profile]
    overrides = {k: getattr(args, k) for k in ("labelled_per_class", "epochs", "alpha", "T") if getattr(args, k) is not None}
    study = replace(study, **overrides)
    if overrides and not args.out:
        raise SystemExit("with overrides, give --out: the default file is the one notebook 03 reads for its own study")
    out = Path(args.out) if args.out else distill_study.lr_choice_file(profile)
    t0 = time.perf_counter()
    labelled, (val_x, val_y), _ = distill_study.split(data.load_cifar10(device), study)
    teacher, meta = checkpoints.load_teacher(device, verbose=False)
    smoothing = distill_study.matched_smoothing(train.predict(teacher, labelled.train_images), study.T)
    cache = distill_study.CachedTeacher(teacher)
    seeds = [100 + s for s in range(args.seeds)]  # not the notebook's seeds 0, 1, ...
    record = {"profile": profile, "device": config.describe()["device_name"], "torch": torch.__version__,
              "python": platform.python_version(), "data": labelled.source,
              "n_labelled": len(labelled.train_images), "n_val": len(val_y), "study": vars(study) | {"lr": None},
              "smoothing": smoothing, "seeds": seeds, "lrs": args.lrs, "runs": [],
              "command": "python bench/distill_study.py " + " ".join(sys.argv[1:])}
    if args.add and out.exists():
        earlier = json.loads(out.read_text())
        if earlier["seeds"] != seeds or earlier["smoothing"] != smoothing:
            raise SystemExit(f"--add needs the seeds and data of {out}: it has seeds {earlier['seeds']}, "
                             f"this run {seeds}")
        record["runs"] = earlier["runs"]
        record["command"] = earlier["command"] + " ; " + record["command"]
    for seed in seeds:
        for lr in args.lrs:
            for arm in args.arms:
                t1 = time.perf_counter()
                try:
                    student, _ = distill_study.train_arm(arm, seed, labelled, study, smoothing, cache, lr=lr)
                    val = train.evaluate(student, val_x, val_y)
                except FloatingPointError:
                    val = float("nan")  # diverged
                record["runs"].append({"arm": arm, "lr": lr, "seed": seed, "val_acc": val,
                                       "seconds": round(time.perf_counter() - t1, 1)})
                print(f"seed {seed} lr {lr:g} {arm:16s} validation {val:.2%}", flush=True)
    cells = sorted({(r["arm"], r["lr"]) for r in record["runs"]})
    record["lrs"] = sorted({lr for _, lr in cells})
    means = {arm: {lr: float(np.mean([r["val_acc"] for r in record["runs"] if r["arm"] == arm and r["lr"] == lr]))
                   for a, lr in cells if a == arm} for arm in distill_study.ARMS if any(a == arm for a, _ in cells)}
    record["mean_val_acc"] = {arm: {f"{lr:g}": m for lr, m in row.items()} for arm, row in means.items()}
    record["chosen_lr"] = {arm: max(row, key=lambda lr: -1 if np.isnan(row[lr]) else row[lr])
                           for arm, row in means.items()}
    record["total_seconds"] = round(time.perf_counter() - t0, 1)
    for arm, row in means.items():
        print(f"{arm:16s} " + "  ".join(f"lr {lr:g}: {m:.2%}" for lr, m in row.items())
              + f"  -> {record['chosen_lr'][arm]:g}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1))
    print(f"wrote {out} in {record['total_seconds']} s")


if __name__ == "__main__":
    main()
