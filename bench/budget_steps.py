"""Notebook 04's copies, replayed outside the notebook: budget points and copy sizes.

Takes the first b answers of notebook 04's query stream (`blackbox.query_stream`, seed 0) from the
course teacher, trains copies with `blackbox.train_copy` exactly as the notebook does (paired seeds,
batch 1024), and measures accuracy and fidelity on the whole test set. Two questions it answers:

* Is the budget curve limited by data or by training steps (the 10,000-query dip)? Budget points of
  section 4: probs exposure, T=2, train.STUDENT_RECIPE, `steps_for(b, 10 epochs, min_steps)` steps.

    python bench/budget_steps.py --budgets 5000 10000 --min-steps 100 200 --out bench/results/local/steps.json

* Section 6b's capacity ceiling: label answers, the teacher's recipe for 18 epochs, copies of the
  student's and of the teacher's size (`--min-steps none`: exactly --epochs passes, as section 6b).

    python bench/budget_steps.py --exposure label --budgets 50000 --recipe teacher --epochs 18 \
        --min-steps none --sizes student teacher --seeds 1 --out bench/results/local/capacity.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import blackbox, checkpoints, config, data, models, train  # noqa: E402

SIZES = {"student": models.STUDENT_WIDTHS, "teacher": models.TEACHER_WIDTHS}
RECIPES = {"student": train.STUDENT_RECIPE, "teacher": train.TEACHER_RECIPE}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budgets", type=int, nargs="+", default=[5000, 10000])
    ap.add_argument("--min-steps", nargs="+", default=["100", "200"],
                    help="minimum steps per copy; 'none': exactly --epochs passes (section 6b)")
    ap.add_argument("--epochs", type=float, default=10, help="passes over the answers (notebook 04 full: 10)")
    ap.add_argument("--exposure", default="probs", choices=("probs", "label"))
    ap.add_argument("--sizes", nargs="+", default=["student"], choices=sorted(SIZES))
    ap.add_argument("--recipe", default="student", choices=sorted(RECIPES),
                    help="train.STUDENT_RECIPE (notebook 04 full, lr 0.4) or train.TEACHER_RECIPE (section 6b)")
    ap.add_argument("--seeds", type=int, default=3, help="how many paired seeds")
    ap.add_argument("--first-seed", type=int, default=0, help="seeds run from here (add seeds to an earlier run)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default="bench/results/local/budget_steps.json")
    args = ap.parse_args()
    min_steps_list = [None if m == "none" else int(m) for m in args.min_steps]

    device = config.get_device(args.device)
    cifar = data.load_cifar10(device)
    teacher, _ = checkpoints.load_pretrained_teacher(device)
    teacher_pred = train.predict(teacher, cifar.test_images).argmax(1)
    stream = cifar.train_images[blackbox.query_stream(len(cifar.train_images), max(args.budgets)).to(device)]
    answers = blackbox.expose(train.predict(teacher, stream), blackbox.image_hash(stream), args.exposure)
    record = {"device": config.describe()["device_name"], "torch": torch.__version__, "data": cifar.source,
              "command": " ".join(sys.argv), "exposure": args.exposure, "T": 2.0, "batch_size": 1024,
              "recipe": args.recipe, "epochs": args.epochs,
              "teacher_acc": (teacher_pred == cifar.test_labels).float().mean().item(), "runs": []}
    for min_steps in min_steps_list:
        for b in args.budgets:
            targets = blackbox.to_targets(blackbox.take(answers, slice(0, b)), args.exposure, T=2.0).to(device)
            steps = None if min_steps is None else blackbox.steps_for(b, args.epochs, min_steps, 1024)
            for size in args.sizes:
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    copy, history = blackbox.train_copy(
                        stream[:b], targets, seed, T=2.0, widths=SIZES[size], cfg=RECIPES[args.recipe],
                        batch_size=1024, steps=steps, epochs=args.epochs if steps is None else None)
                    pred = train.predict(copy, cifar.test_images).argmax(1)
                    r = {"min_steps": min_steps, "budget": b, "steps": steps, "size": size, "seed": seed,
                         "acc": (pred == cifar.test_labels).float().mean().item(),
                         "fid": blackbox.fidelity(pred, teacher_pred), "train_seconds": history.train_seconds,
                         "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
                    record["runs"].append(r)
                    print(json.dumps(r), flush=True)
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
