"""Can a student beat its teacher? Born-again and ensemble students over seeds, at a larger scale than notebook 04b.

Notebook 04b runs the born-again test on the copier's own students (a few labels each); this script runs the same
study functions (`course_utils.blackbox_study`: `copy_once`, `born_again`, `ensemble_students`) with teachers that
share one larger labelled set:

* teachers: `--seeds` students trained on the true labels of `--per-class` labelled images per class;
* born-again students: one per teacher, same size, images and schedule, on its soft labels alone (the study's T);
* ensemble students: on the mean of all the teachers' soft labels, one per seed.

Reports, with 95% t-intervals over seeds: born-again minus its own teacher (paired), ensemble student minus the
mean single teacher, and the ensemble itself, on the whole test split. Writes JSON; notebook 04b prints it.

    python bench/born_again.py --profile quick --out bench/results/cpu/born_again_quick.json
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import blackbox_study as bs  # noqa: E402
from course_utils import config, data, metrics, numerics, stats  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick", choices=sorted(bs.STUDIES), help="notebook 04's study")
    ap.add_argument("--per-class", type=int, default=200, help="labelled training images per class (default 200)")
    ap.add_argument("--epochs", type=float, default=10, help="passes over them, for every model (default 10)")
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate at batch 1024 (default: the study's)")
    ap.add_argument("--seeds", type=int, default=3, help="teachers, born-again students and ensemble students (default 3)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/local/born_again.json"))
    args = ap.parse_args()
    if args.seeds < 2:
        ap.error("--seeds must be at least 2: an interval needs two values, and an ensemble two teachers")
    t0 = time.time()
    device = config.get_device()
    base = bs.get_study(args.profile)
    lr = args.lr or base.lr
    every = {"lr": lr, "passes": args.epochs}  # one learning rate and schedule for every model
    study = replace(base, labelled_per_class=args.per_class, choices={"own labels": every, "born again": every})
    cifar = data.load_cifar10(device)
    sp = bs.split(cifar, study)
    idx = data.balanced_indices(cifar.train_labels, args.per_class, seed=0).to(device)
    x, y = cifar.train_images[idx], cifar.train_labels[idx]  # one labelled set, shared by every teacher
    lab = bs.Lab(cifar.test_images, cifar.test_labels)
    both = torch.cat([x, lab.images])  # each teacher's logits on its training images (targets), then the test images
    teachers = [bs.copy_once("teacher", x, y, s, lr, args.epochs, study, lab, logits_on=both) for s in range(args.seeds)]
    test_logits = [t.logits[len(x):] for t in teachers]
    teachers = [replace(t, logits=t.logits[:len(x)]) for t in teachers]
    print("teachers:", [f"{t.acc:.2%}" for t in teachers], f"({time.time() - t0:.0f} s)", flush=True)
    born = bs.born_again.__wrapped__(teachers, sp, study, lab, images=x)
    ens = bs.ensemble_students(teachers, x, tuple(range(args.seeds)), study, lab)
    teacher_acc = [t.acc for t in teachers]
    born_gain = stats.paired([b.acc for b in born], teacher_acc)
    ens_gain = stats.paired_summary([e.acc - sum(teacher_acc) / len(teacher_acc) for e in ens])
    mean_probs = torch.stack([torch.softmax(z, 1) for z in test_logits]).mean(0)  # (N, C) the ensemble's answer
    ensemble_acc = metrics.agreement(mean_probs.argmax(1), lab.labels)
    print(f"born-again minus its teacher: {stats.format_interval(born_gain)}")
    print(f"ensemble student minus the mean single teacher: {stats.format_interval(ens_gain)}; "
          f"the ensemble of {args.seeds} teachers itself: {ensemble_acc:.2%}")
    info = config.describe()
    chosen = numerics.chosen(device)
    record = {"profile": args.profile, "device": info["device_name"], "processor": platform.processor(),
              "threads": info["cpu_threads"], "numerics": str(chosen) if chosen else "fp32", "torch": info["torch"],
              "data": cifar.source, "per_class": args.per_class, "epochs": args.epochs, "lr": lr, "T": study.T,
              "seeds": args.seeds, "n_test": len(lab.labels), "teacher_acc": teacher_acc,
              "born_again_acc": [b.acc for b in born], "ensemble_student_acc": [e.acc for e in ens],
              "ensemble_acc": ensemble_acc, "born_again_minus_teacher": born_gain,
              "ensemble_student_minus_mean_teacher": ens_gain, "seconds": time.time() - t0,
              "date": time.strftime("%Y-%m-%d"), "command": "python bench/born_again.py " + " ".join(sys.argv[1:])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
