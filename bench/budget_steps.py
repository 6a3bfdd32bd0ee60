"""Notebook 04's copies, replayed outside the notebook: budget points and copy sizes.

Takes the first b answers of notebook 04's query stream (`blackbox_study.query_stream`, the study's
stream seed) from the course teacher, trains copies with `blackbox_study.train_copy` exactly as the
notebook does (the study of --profile, default full: its T, batch size, learning rate and paired seeds),
and measures accuracy and fidelity on the study's test images. Only --epochs and --min-steps override the
study (`dataclasses.replace`). Two questions it answers:

* Is the budget curve limited by data or by training steps (the 10,000-query dip)? Budget points of
  section 4: probs exposure, `steps_for(b, study)` steps at each --min-steps.

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
from dataclasses import asdict, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import blackbox_study, checkpoints, config, copier, data, metrics, models, server, train  # noqa: E402

SIZES = {"student": models.STUDENT_WIDTHS, "teacher": models.TEACHER_WIDTHS}
RECIPES = {"student": None, "teacher": train.TEACHER_RECIPE}  # None: train_copy's default, the study's lr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="full", choices=sorted(blackbox_study.STUDIES), help="notebook 04's study")
    ap.add_argument("--budgets", type=int, nargs="+", default=[5000, 10000])
    ap.add_argument("--min-steps", nargs="+", default=None,
                    help="minimum steps per copy (default: the study's); 'none': exactly --epochs passes (section 6b)")
    ap.add_argument("--epochs", type=float, default=None, help="passes over the answers (default: the study's)")
    ap.add_argument("--exposure", default="probs", choices=("probs", "label"))
    ap.add_argument("--sizes", nargs="+", default=["student"], choices=sorted(SIZES))
    ap.add_argument("--recipe", default="student", choices=sorted(RECIPES),
                    help="student: train.STUDENT_RECIPE at the study's lr; teacher: train.TEACHER_RECIPE (section 6b)")
    ap.add_argument("--seeds", type=int, default=3, help="how many paired seeds")
    ap.add_argument("--first-seed", type=int, default=0, help="seeds run from here (add seeds to an earlier run)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default="bench/results/local/budget_steps.json")
    args = ap.parse_args()

    study = blackbox_study.get_study(args.profile)
    if args.epochs is not None:
        study = replace(study, epochs=args.epochs)
    min_steps_list = [None if m == "none" else int(m) for m in args.min_steps or [str(study.min_steps)]]
    device = config.get_device(args.device)
    cifar = data.load_cifar10(device).subset(None, study.test_per_class)
    teacher, _ = checkpoints.load_pretrained_teacher(device)
    teacher_pred = train.predict(teacher, cifar.test_images).argmax(1)
    positions = blackbox_study.query_stream(len(cifar.train_images), max(args.budgets), study.stream_seed)
    stream = cifar.train_images[positions.to(device)]
    answers = server.expose(train.predict(teacher, stream), server.image_hash(stream), args.exposure, k=study.k)
    record = {"device": config.describe()["device_name"], "torch": torch.__version__, "data": cifar.source,
              "command": " ".join(sys.argv), "profile": args.profile, "study": asdict(study),
              "exposure": args.exposure, "recipe": args.recipe,
              "teacher_acc": metrics.agreement(teacher_pred, cifar.test_labels), "runs": []}
    for min_steps in min_steps_list:
        run_study = study if min_steps is None else replace(study, min_steps=min_steps)
        for b in args.budgets:
            targets = copier.to_targets(copier.take(answers, slice(0, b)), args.exposure, T=study.T).to(device)
            steps = None if min_steps is None else blackbox_study.steps_for(b, run_study)
            for size in args.sizes:
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    copy, history = blackbox_study.train_copy(
                        stream[:b], targets, seed, run_study, widths=SIZES[size], cfg=RECIPES[args.recipe],
                        epochs=study.epochs if steps is None else None)
                    pred = train.predict(copy, cifar.test_images).argmax(1)
                    r = {"min_steps": min_steps, "budget": b, "steps": steps, "size": size, "seed": seed,
                         "acc": metrics.agreement(pred, cifar.test_labels),
                         "fid": metrics.agreement(pred, teacher_pred), "train_seconds": history.train_seconds,
                         "finished": time.strftime("%Y-%m-%d %H:%M:%S")}
                    record["runs"].append(r)
                    print(json.dumps(r), flush=True)
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
