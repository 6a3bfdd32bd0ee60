"""Train teachers and hard-label students with course_utils and write what was measured as JSON: accuracy, speed, and
whether seeds really reach the training.

    python bench/train_bench.py                      # profile and device chosen as the notebooks do
    COURSE_PROFILE=quick python bench/train_bench.py --out bench/results/local/cpu.json
    python bench/train_bench.py --profile full --teacher-epochs 18 24 --teacher-seeds 3 --seeds 3

Measures, per run: test accuracy (plain and with flip test-time augmentation for teachers), seconds of training
(cold start excluded: a warm-up run goes first), training images/s, a checksum of the weights and the share of test
predictions that agree with the first seed's: distinct seeds must give distinct weights and predictions. Every record
names the device, the data copy and the torch version. Distillation's students and their comparisons are notebook
03's study (bench/distill_study.py).
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import config, data, metrics, models, train  # noqa: E402

PROFILES = {  # train_per_class None = the whole training set
    "quick": dict(train_per_class=300, test_per_class=100, batch_size=256, teacher_epochs=[2], student_epochs=3),
    "full": dict(train_per_class=None, test_per_class=None, batch_size=1024, teacher_epochs=[18], student_epochs=10),
}


def weights_checksum(model: torch.nn.Module) -> float:
    """Sum of |w| over every parameter, in float64: two runs with equal checksums trained the same weights."""
    return sum(p.detach().double().abs().sum().item() for p in model.parameters())


def run(kind: str, epochs: float, seed: int, d: data.CIFAR10, batch_size: int, first: dict) -> tuple[torch.nn.Module, dict]:
    """One net of `kind` trained from seed `seed`, measured; `first` keeps each kind's first test predictions."""
    config.set_seed(seed)
    make, recipe = (models.make_teacher, train.TEACHER_RECIPE) if kind == "teacher" else (models.make_student, train.STUDENT_RECIPE)
    net = make(whiten_with=d.train_images)
    h = train.fit(net, data.Loader(d.train_images, d.train_labels, batch_size=batch_size, seed=seed), cfg=recipe,
                  epochs=epochs, verbose=False)
    pred = train.predict(net, d.test_images).argmax(1)
    first.setdefault(kind, pred)
    r = {"arm": "hard", "epochs": epochs, "seed": seed, "train_seconds": round(h.train_seconds, 3),
         "images_per_s": round(h.images_per_second), "test_acc": train.evaluate(net, d.test_images, d.test_labels),
         "test_acc_flip_tta": train.evaluate(net, d.test_images, d.test_labels, tta=True),
         "test_pred_agreement_with_first_seed": metrics.agreement(pred, first[kind]),
         "weights_checksum": weights_checksum(net), "params": models.count_params(net),
         "flops_per_image": models.flops_per_image(net)}
    print(f"{kind:7s} epochs {epochs:5.1f} seed {seed}: {r['test_acc']:.2%} (flip TTA {r['test_acc_flip_tta']:.2%}) "
          f"in {r['train_seconds']:.2f} s, {r['images_per_s']} img/s", flush=True)
    return net, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None, help="quick or full (default: as config.get_profile())")
    ap.add_argument("--device", default=None)
    ap.add_argument("--teacher-epochs", type=float, nargs="*", default=None, help="one teacher per value")
    ap.add_argument("--teacher-seeds", type=int, default=1, help="seeds of the last teacher-epochs value")
    ap.add_argument("--student-epochs", type=float, default=None)
    ap.add_argument("--seeds", type=int, default=1, help="hard-label students, one per seed")
    ap.add_argument("--out", default=None, help="JSON file (default: bench/results/local/train_<profile>.json)")
    args = ap.parse_args()

    device = config.get_device(args.device)
    profile = args.profile or config.get_profile(device)
    p = PROFILES[profile]
    teacher_epochs = args.teacher_epochs or p["teacher_epochs"]
    out = Path(args.out or Path(__file__).parent / "results" / "local" / f"train_{profile}.json")
    out.parent.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    d = data.load_cifar10(device).subset(p["train_per_class"], p["test_per_class"])
    record = {"profile": profile, "device": config.describe()["device_name"], "torch": torch.__version__,
              "python": platform.python_version(), "data": d.source, "n_train": len(d.train_images),
              "n_test": len(d.test_images), "batch_size": p["batch_size"],
              "command": "python bench/train_bench.py " + " ".join(sys.argv[1:]),
              "data_load_seconds": round(time.perf_counter() - t0, 2), "teachers": [], "students": []}
    config.set_seed(0)  # warm-up: kernels, cuDNN autotuning and allocator, so the timed runs exclude the cold start
    train.fit(models.make_teacher(whiten_with=d.train_images), data.Loader(d.train_images, d.train_labels,
              batch_size=p["batch_size"]), epochs=0.3, verbose=False)
    first = {}
    runs = [("teacher", e, 0) for e in teacher_epochs] + [("teacher", teacher_epochs[-1], s) for s in range(1, args.teacher_seeds)]
    runs += [("student", args.student_epochs or p["student_epochs"], 100 + s) for s in range(args.seeds)]
    for kind, epochs, seed in runs:
        record[kind + "s"].append(run(kind, epochs, seed, d, p["batch_size"], first)[1])
        out.write_text(json.dumps(record, indent=1))
    record["total_seconds"] = round(time.perf_counter() - t0, 1)
    out.write_text(json.dumps(record, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
