"""Can a student beat its teacher? Born-again and ensemble students, over seeds (issue 14; notebook 04 reads it).

Notebook 04's earlier text said a copy is "capped by its teacher". Born-Again Networks (Furlanello et al. 2018)
report students of the teacher's own size, distilled from it, that beat it; students of an ensemble of
teachers can beat each single teacher. This script tests both here, with notebook 04's training function
(`blackbox_study.train_copy`, the study of --profile) and models of one size:

* teachers: `--seeds` networks trained on the true labels of the same `--per-class` labelled images per class;
* born-again students: one per teacher, same size and schedule, trained on that teacher's soft labels (T of the
  study, no true labels) on the same images;
* ensemble students: trained on the mean of all the teachers' probabilities, one per seed.

Reports, with 95% t-intervals over seeds: born-again minus its own teacher (paired), ensemble student minus the
mean single teacher, and the ensemble itself. Writes JSON.

    python bench/born_again.py --profile quick --out bench/results/cpu/born_again_quick.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import blackbox_study, config, copier, data, stats, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick", choices=sorted(blackbox_study.STUDIES), help="notebook 04's study")
    ap.add_argument("--per-class", type=int, default=200, help="labelled training images per class (default 200)")
    ap.add_argument("--epochs", type=float, default=10, help="passes over them, for every model (default 10)")
    ap.add_argument("--seeds", type=int, default=3, help="teachers, born-again students and ensemble students (default 3)")
    ap.add_argument("--out", type=Path, default=Path("bench/results/local/born_again.json"))
    args = ap.parse_args()
    if args.seeds < 2:
        ap.error("--seeds must be at least 2: an interval needs two values, and an ensemble two teachers")
    t0 = time.time()
    device = config.get_device()
    study = blackbox_study.get_study(args.profile)
    cifar = data.load_cifar10(device)
    idx = data.balanced_indices(cifar.train_labels, args.per_class, seed=0)
    x, y = cifar.train_images[idx], cifar.train_labels[idx]
    test_x, test_y = cifar.test_images, cifar.test_labels

    def fit(targets, seed):
        model, _ = blackbox_study.train_copy(x, targets, seed, study, epochs=args.epochs)
        return model, train.evaluate(model, test_x, test_y)

    teachers, teacher_acc = [], []
    for s in range(args.seeds):
        model, acc = fit(y, s)
        teachers.append(model)
        teacher_acc.append(acc)
        print(f"teacher {s}: {acc:.2%}  ({time.time() - t0:.0f} s)", flush=True)
    logits = [train.predict(t, x) for t in teachers]  # (N, C) each, on the training images
    born, ens = [], []
    for s, z in enumerate(logits):
        _, acc = fit(copier.to_targets(z, "logits", T=study.T), 100 + s)
        born.append(acc)
        print(f"born-again student of teacher {s}: {acc:.2%}  ({time.time() - t0:.0f} s)", flush=True)
    mean_probs = torch.stack([torch.softmax(z / study.T, 1) for z in logits]).mean(0)  # the ensemble's soft labels at T
    for s in range(args.seeds):
        _, acc = fit(mean_probs, 200 + s)
        ens.append(acc)
        print(f"ensemble student {s}: {acc:.2%}  ({time.time() - t0:.0f} s)", flush=True)
    test_probs = torch.stack([torch.softmax(train.predict(t, test_x), 1) for t in teachers]).mean(0)
    ensemble_acc = (test_probs.argmax(1) == test_y).float().mean().item()
    born_gain = stats.paired_summary([b - t for b, t in zip(born, teacher_acc)])
    ens_gain = stats.paired_summary([e - sum(teacher_acc) / len(teacher_acc) for e in ens])
    print(f"born-again minus its teacher: {stats.format_interval(born_gain)}")
    print(f"ensemble student minus the mean single teacher: {stats.format_interval(ens_gain)}; "
          f"the ensemble of {args.seeds} teachers itself: {ensemble_acc:.2%}")
    info = config.describe()
    record = {"profile": args.profile, "device": info["device_name"], "torch": info["torch"], "data": cifar.source,
              "per_class": args.per_class, "epochs": args.epochs, "T": study.T, "seeds": args.seeds,
              "n_test": len(test_y), "teacher_acc": teacher_acc, "born_again_acc": born, "ensemble_student_acc": ens,
              "ensemble_acc": ensemble_acc, "born_again_minus_teacher": born_gain,
              "ensemble_student_minus_mean_teacher": ens_gain, "seconds": time.time() - t0,
              "date": time.strftime("%Y-%m-%d"),
              "command": "python bench/born_again.py " + " ".join(sys.argv[1:])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(f"wrote {args.out} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
