"""Which learning rate should the students of a profile use? A sweep over notebook 03's arms.

Trains the hard-label, blended (T=4, alpha=0.5) and soft-only (T=4) students of notebook 03 at
several peak learning rates (quoted at batch 1024, scaled with the batch), on notebook 03's split
of the profile, paired seeds, the shipped teacher. A recipe is fair when the hard-label baseline is
near its best and no distillation arm is unstable.

    COURSE_PROFILE=quick python bench/student_lr.py --lrs 0.4 0.7 1.0 1.5 --out bench/results/cpu/student_lr_quick.json
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import checkpoints, config, data, losses, models, train  # noqa: E402

SPLITS = {  # notebook 03's study per profile: (train per class, test per class, batch, epochs)
    "quick": (400, 200, 256, 4),
    "full": (None, None, 1024, 10),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lrs", type=float, nargs="+", default=[0.4, 0.7, 1.0, 1.5])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--profile", default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default="bench/results/local/student_lr.json")
    args = ap.parse_args()

    device = config.get_device(args.device)
    profile = args.profile or config.get_profile(device)
    per_class, test_per_class, batch, epochs = SPLITS[profile]
    pool, val_x, val_y = data.load_cifar10(device).holdout(500 if profile == "full" else 100, seed=99)  # notebook 03's split
    d = pool.subset(per_class, test_per_class)
    teacher, _ = checkpoints.load_pretrained_teacher(device)
    arms = {"hard": (losses.hard_loss, False),
            "blended": (functools.partial(losses.distillation_loss, T=4.0, alpha=0.5), True),
            "soft only": (functools.partial(losses.distillation_loss, T=4.0, alpha=0.0), True)}
    record = {"profile": profile, "device": config.describe()["device_name"], "torch": torch.__version__,
              "data": d.source, "n_train": len(d.train_images), "n_test": len(d.test_images), "batch_size": batch,
              "epochs": epochs, "runs": [], "command": "python bench/student_lr.py " + " ".join(sys.argv[1:])}
    for seed in range(args.seeds):
        cached = train.CachedTeacher(teacher)  # same loader seed for every lr and arm: the teacher runs once
        for lr in args.lrs:
            for arm, (loss, use_teacher) in arms.items():
                config.set_seed(1000 + seed)  # notebook 03's initial weights for this seed
                student = models.make_student().to(device)
                loader = data.Loader(d.train_images, d.train_labels, batch_size=batch, seed=seed)
                try:
                    train.fit(student, loader, loss, cfg=train.STUDENT_RECIPE, lr=lr, epochs=epochs,
                              teacher=cached if use_teacher else None, verbose=False)
                    acc = train.evaluate(student, d.test_images, d.test_labels)
                    val = train.evaluate(student, val_x, val_y)
                except FloatingPointError:
                    acc = val = float("nan")  # diverged
                    cached.rewind()
                record["runs"].append({"seed": seed, "lr": lr, "arm": arm, "test_acc": acc, "val_acc": val})
                print(f"seed {seed} lr {lr:g} {arm:9s} {acc:.2%}", flush=True)
    record["mean"] = {f"{arm} @ lr {lr:g}": sum(r["test_acc"] for r in record["runs"] if r["arm"] == arm and r["lr"] == lr)
                      / args.seeds for lr in args.lrs for arm in arms}
    for k, v in record["mean"].items():
        print(f"{k:22s} {v:.2%}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
