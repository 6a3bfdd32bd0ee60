"""Is notebook 04's budget curve limited by data or by training steps? (the 10,000-query dip)

Replays notebook 04's full-profile budget points on any device: the first b answers of the same
query stream (probs exposure, T=2), batch 1024, train.STUDENT_RECIPE, `max(min_steps, 10 epochs)`
steps, paired seeds, accuracy and fidelity on the whole test set.

    python bench/budget_steps.py --budgets 5000 10000 --min-steps 100 200 --out bench/results/local/steps.json
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import blackbox, checkpoints, config, data, models, train  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budgets", type=int, nargs="+", default=[5000, 10000])
    ap.add_argument("--min-steps", type=int, nargs="+", default=[100, 200])
    ap.add_argument("--exposure", default="probs", choices=("probs", "label"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default="bench/results/local/budget_steps.json")
    args = ap.parse_args()

    device = config.get_device(args.device)
    cifar = data.load_cifar10(device)
    teacher, _ = checkpoints.load_pretrained_teacher(device)
    teacher_pred = train.predict(teacher, cifar.test_images).argmax(1)
    order = torch.randperm(len(cifar.train_images), generator=torch.Generator().manual_seed(0))  # notebook 04's stream
    stream = cifar.train_images[order[:max(args.budgets)].to(device)]
    answers = blackbox.expose(train.predict(teacher, stream), blackbox.image_hash(stream), args.exposure)
    record = {"device": config.describe()["device_name"], "torch": torch.__version__, "data": cifar.source,
              "exposure": args.exposure, "T": 2.0, "batch_size": 1024, "runs": []}
    for min_steps in args.min_steps:
        for b in args.budgets:
            targets = blackbox.to_targets(blackbox.take(answers, slice(0, b)), args.exposure, T=2.0).to(device)
            steps = max(min_steps, math.ceil(10 * b / 1024))
            for seed in range(args.seeds):
                loader = data.Loader(stream[:b], targets, batch_size=1024, seed=seed)
                config.set_seed(1000 + seed)
                student = models.make_student().to(device)
                train.fit(student, loader, blackbox.student_loss(2.0), cfg=train.STUDENT_RECIPE,
                          epochs=steps / len(loader), verbose=False)
                pred = train.predict(student, cifar.test_images).argmax(1)
                r = {"min_steps": min_steps, "budget": b, "steps": steps, "seed": seed,
                     "acc": (pred == cifar.test_labels).float().mean().item(), "fid": blackbox.fidelity(pred, teacher_pred)}
                record["runs"].append(r)
                print(json.dumps(r), flush=True)
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
