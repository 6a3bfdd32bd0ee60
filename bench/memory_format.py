"""Does channels_last pay on this machine? Training and inference images/s of the teacher and the
student through the course's own code, in the default (NCHW) and the channels_last (NHWC) layout.

`data.MEMORY_FORMAT` sets the layout of every batch `data.Loader` yields and `train.predict` feeds, and
of every model `train.fit` trains; this benchmark switches it and measures `train.fit` (hard labels,
the model's recipe, random uint8 images: speed does not depend on the pictures) and `metrics.throughput`
(inference), alternating the layouts and keeping the best of `--repeats` measurements. It is the
evidence for channels_last on a CPU; on a GPU it has always been part of the fast recipe.

    python bench/memory_format.py --out bench/results/cpu/memory_format.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import config, data, metrics, models, train  # noqa: E402

LAYOUTS = {"nchw": torch.contiguous_format, "channels_last": torch.channels_last}


def measure(name: str, batch: int, steps: int, repeats: int, device: torch.device) -> dict:
    make, recipe = {"student": (models.make_student, train.STUDENT_RECIPE),
                    "teacher": (models.make_teacher, train.TEACHER_RECIPE)}[name]
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (batch * steps, 3, 32, 32), dtype=torch.uint8, generator=g).to(device)
    labels = torch.randint(0, 10, (batch * steps,), generator=g).to(device)
    row = {"model": name, "batch": batch, "steps": steps, "repeats": repeats}
    models_, course_layout = {}, data.MEMORY_FORMAT
    try:
        for label, layout in LAYOUTS.items():  # one warm-up fit per layout: kernels, allocator
            data.MEMORY_FORMAT = layout
            config.set_seed(0)
            models_[label] = make(whiten_with=images).to(device)
            train.fit(models_[label], data.Loader(images, labels, batch_size=batch, seed=0), cfg=recipe, epochs=1,
                      verbose=False)
            row[label] = {"train_images_per_s": 0.0, "infer_images_per_s": 0.0}
        for _ in range(repeats):  # the layouts alternate, so a slow spell of a shared machine hits both; best of the repeats
            for label, layout in LAYOUTS.items():
                data.MEMORY_FORMAT = layout
                hist = train.fit(models_[label], data.Loader(images, labels, batch_size=batch, seed=0), cfg=recipe,
                                 epochs=1, verbose=False)
                best = row[label]
                best["train_images_per_s"] = max(best["train_images_per_s"], hist.images_per_second)
                best["infer_images_per_s"] = max(best["infer_images_per_s"],
                                                 metrics.throughput(models_[label], images, batch_size=batch, repeats=1))
    finally:
        data.MEMORY_FORMAT = course_layout  # back to the course's layout, even if a measurement failed
    for kind in ("train", "infer"):
        row[f"speedup_{kind}"] = (row["channels_last"][f"{kind}_images_per_s"]
                                  / row["nchw"][f"{kind}_images_per_s"])
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, nargs="+", default=[256])
    ap.add_argument("--steps", type=int, nargs=2, default=[12, 4], metavar=("STUDENT", "TEACHER"),
                    help="training steps per measurement (one epoch) for the student and the teacher")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default="bench/results/local/memory_format.json")
    args = ap.parse_args()

    device = config.get_device(args.device)
    record = {"device": config.describe()["device_name"], "torch": torch.__version__,
              "threads": torch.get_num_threads(),
              "command": "python bench/memory_format.py " + " ".join(sys.argv[1:]), "runs": []}
    for name, steps in zip(("student", "teacher"), args.steps):
        for batch in args.batches:
            row = measure(name, batch, steps, args.repeats, device)
            record["runs"].append(row)
            print(f"{name:7s} batch {batch:5d}  train {row['nchw']['train_images_per_s']:6.0f} -> "
                  f"{row['channels_last']['train_images_per_s']:6.0f} images/s (x{row['speedup_train']:.2f})   "
                  f"inference {row['nchw']['infer_images_per_s']:6.0f} -> "
                  f"{row['channels_last']['infer_images_per_s']:6.0f} (x{row['speedup_infer']:.2f})", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
