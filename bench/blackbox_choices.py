"""Notebook 04's choices, made on validation images that neither the teacher nor any copy trains on.

    python bench/blackbox_choices.py --profile quick        # writes bench/results/cpu/blackbox_choices_quick.json

Each arm of course_utils.blackbox_study (the copier's own student, and its copies with label answers at each budget
of notebook 04 and at notebook 04b's; at the smallest budget also the probs and top_k copies) is the study's copier
over seeds 100-102 (not the notebooks' seeds), scored on the study's validation split (drawn from CIFAR-10's test
set). Three stages:

1. every label arm's learning rate, at reference passes (more passes for a smaller dataset);
2. every label arm's passes over its dataset, at that rate: the fewest passes whose mean validation accuracy is
   within --tolerance of the best (a longer run that gains less than that is not worth its time), among the passes
   whose training fits the study's `max_images` (the quick profile's time on a CPU; none in the full profile);
3. at the smallest budget, each exposure's own learning rate at that budget's passes (notebook 03's rule).

A rate at the top of its grid is extended once (twice the rate). The notebooks read the "chosen" block.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course_utils import blackbox_study as bs  # noqa: E402
from course_utils import checkpoints, config, data, numerics  # noqa: E402


RULE = ("learning rate: the best mean validation accuracy over the grid (extended once past its top); passes: the "
        "fewest whose mean is within {tolerance} of the best, among those training on at most {cap} images")


def provenance() -> dict:
    info = config.describe()
    chosen = numerics.for_device(config.get_device(), announce=False)  # what every copy here trains in
    return {"device": info["device_name"], "processor": platform.processor() or platform.machine(),
            "threads": info["cpu_threads"], "torch": info["torch"], "numerics": str(chosen),
            "date": time.strftime("%Y-%m-%d"), "command": "python " + " ".join(sys.argv)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick", choices=sorted(bs.STUDIES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    ap.add_argument("--label-lrs", type=float, nargs="+", default=[1.5, 3.0, 6.0, 12.0])
    ap.add_argument("--soft-lrs", type=float, nargs="+", default=[0.75, 1.5, 3.0, 6.0])
    ap.add_argument("--multipliers", type=float, nargs="+", default=[0.5, 1.0, 2.0], help="passes grid, x reference")
    ap.add_argument("--min-passes", type=float, default=4.0, help="the reference passes never go below this")
    ap.add_argument("--tolerance", type=float, default=0.01, help="passes: within this share of the best")
    ap.add_argument("--device", default=None)
    ap.add_argument("--add", nargs="+", default=None, metavar="ARM",
                    help="only choose these arms' learning rates (stage 3's rule, at the passes already chosen for the "
                         "budget's label copy) and add them to the existing file: EXPOSURE@BUDGET (e.g. probs@1000), or "
                         "'born again' (notebook 04b's born-again students of the own students)")
    ap.add_argument("--rechoose", action="store_true", help="apply the passes rule again to the runs in the file")
    ap.add_argument("--out", default=None, help="default: the file the notebooks read for this profile")
    args = ap.parse_args()

    t0 = time.perf_counter()
    device = config.get_device(args.device)
    study = bs.STUDIES[args.profile]  # without earlier choices
    out = Path(args.out) if args.out else bs.choices_file(args.profile)
    cifar = data.load_cifar10(device)
    teacher, _ = checkpoints.load_teacher(device, verbose=False)
    sp = bs.split(cifar, study)
    answers = bs.buy(teacher, sp.stream, study)
    val = bs.Lab(sp.val_images, sp.val_labels)
    record = {**provenance(), "profile": args.profile, "data": cifar.source, "seeds": args.seeds,
              "n_val": len(val.labels), "tolerance": args.tolerance, "runs": [], "chosen": {}}
    if args.add or args.rechoose:
        record = json.loads(out.read_text())
        record.setdefault("added", []).append(provenance())

    def size(budget: int) -> int:
        return study.labelled_per_class * len(data.CLASSES) + budget

    def reference(budget: int) -> float:  # 8 passes at 3,200 images, more for fewer (about sqrt), at least min
        return round(max(args.min_passes, 8 * math.sqrt(3200 / size(budget))))

    def score(exposure: str, budget: int, lr: float, passes: float, stage: int) -> float:
        accs = []
        for seed in args.seeds:
            c = bs.copy_arm(sp, answers, exposure, budget, seed, study, val, lr=lr, passes=passes)
            accs.append(c.acc)
            record["runs"].append({"stage": stage, "arm": c.arm, "lr": lr, "passes": passes, "seed": seed,
                                   "val_acc": c.acc, "steps": c.steps, "seconds": c.seconds})
        print(f"stage {stage}  {bs.arm(exposure, budget):12s} lr {lr:5g}  passes {passes:5g}  "
              f"val {100 * np.mean(accs):.2f}  ({time.perf_counter() - t0:.0f} s)", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=1))
        return float(np.mean(accs))

    def best_lr(exposure, budget, lrs, passes, stage):
        scores = {lr: score(exposure, budget, lr, passes, stage) for lr in lrs}
        top = max(lrs)
        if max(scores, key=scores.get) == top:  # at the grid's edge: one step beyond
            scores[2 * top] = score(exposure, budget, 2 * top, passes, stage)
        return max(scores, key=scores.get)

    def choose_lr(exposure: str, budget: int, passes: float) -> None:
        lrs = args.label_lrs if exposure == "label" else args.soft_lrs
        lr = best_lr(exposure, budget, lrs, passes, 3)
        mean = np.mean([r["val_acc"] for r in record["runs"]
                        if r["stage"] == 3 and r["arm"] == bs.arm(exposure, budget) and r["lr"] == lr])
        record["chosen"][bs.arm(exposure, budget)] = {"lr": lr, "passes": passes, "val_acc": float(mean)}

    def choose_born_again() -> None:  # the own students of the validation seeds teach; each lr trains their students
        chosen = replace(study, choices=record["chosen"])
        lr_own, passes = bs.choice(chosen, "label", bs.OWN)
        teachers = []
        for seed in args.seeds:
            own = bs.labelled(sp, seed, chosen)
            teachers.append(bs.copy_once("own labels", *own, seed, lr_own, passes, chosen, val, logits_on=own[0]))
        scores = {}
        for lr in args.soft_lrs + [2 * max(args.soft_lrs)]:
            trial = replace(chosen, choices={**record["chosen"], "born again": {"lr": lr, "passes": passes}})
            born = bs.born_again.__wrapped__(teachers, sp, trial, val)
            scores[lr] = float(np.mean([c.acc for c in born]))
            record["runs"] += [{"stage": 3, "arm": "born again", "lr": lr, "passes": passes, "seed": c.seed,
                                "val_acc": c.acc, "steps": c.steps, "seconds": c.seconds} for c in born]
            print(f"stage 3  born again   lr {lr:5g}  passes {passes:5g}  val {100 * scores[lr]:.2f}", flush=True)
        lr = max(scores, key=scores.get)
        record["chosen"]["born again"] = {"lr": lr, "passes": passes, "val_acc": scores[lr]}

    if args.add:
        for name in args.add:
            if name == "born again":
                choose_born_again()
                continue
            exposure, budget = name.split("@")
            choose_lr(exposure, int(budget), record["chosen"][bs.arm("label", int(budget))]["passes"])
        out.write_text(json.dumps(record, indent=1))
        print(json.dumps(record["chosen"], indent=1))
        return

    def fits(budget: int, passes: float) -> bool:
        return study.max_images is None or passes * size(budget) <= study.max_images

    def passes_rule(budget: int, scores: dict) -> float:
        admissible = {p: s for p, s in scores.items() if fits(budget, p)}
        best = max(admissible.values())
        return min(p for p, s in admissible.items() if s >= best - args.tolerance)

    label_arms = [bs.OWN, *sorted(set(study.budgets) | {bs.LIMITS[args.profile].budget})]  # notebook 04b's too
    if args.rechoose:  # the rule again, on the runs recorded (nothing trained)
        for b in label_arms:
            name = bs.arm("label", b)
            lr = record["chosen"][name]["lr"]
            scores = {}
            for r in record["runs"]:
                if r["stage"] == 2 and r["arm"] == name and r["lr"] == lr:
                    scores.setdefault(r["passes"], []).append(r["val_acc"])
            scores = {p: float(np.mean(v)) for p, v in scores.items()}
            p = passes_rule(b, scores)
            record["chosen"][name] = {"lr": lr, "passes": p, "val_acc": scores[p]}
        record["rule"] = RULE.format(tolerance=args.tolerance, cap=study.max_images)
        out.write_text(json.dumps(record, indent=1))
        print(json.dumps(record["chosen"], indent=1))
        return
    lr_of = {b: best_lr("label", b, args.label_lrs, reference(b), 1) for b in label_arms}
    passes_of = {}
    for b in label_arms:
        grid = [p for p in (round(m * reference(b)) for m in args.multipliers) if fits(b, p)]
        scores = {p: score("label", b, lr_of[b], p, 2) for p in grid}
        passes_of[b] = passes_rule(b, scores)
        record["chosen"][bs.arm("label", b)] = {"lr": lr_of[b], "passes": passes_of[b], "val_acc": scores[passes_of[b]]}
    record["rule"] = RULE.format(tolerance=args.tolerance, cap=study.max_images)
    for e in study.exposures:
        choose_lr(e, study.budgets[0], passes_of[study.budgets[0]])
    record["seconds"] = time.perf_counter() - t0
    out.write_text(json.dumps(record, indent=1))
    print(json.dumps(record["chosen"], indent=1))
    print(f"wrote {out} in {record['seconds']:.0f} s")


if __name__ == "__main__":
    main()
