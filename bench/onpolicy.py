"""Notebook 07's study from the command line (course_utils.onpolicy_study: the same functions the notebook calls).

    python bench/onpolicy.py teacher                     # trains the shipped teacher, data/pretrained/lm_teacher.pt
    python bench/onpolicy.py feasibility --out bench/results/cpu/07_feasibility.json   # validation seeds 100..
    python bench/onpolicy.py run --profile full --out "$OUT/07_on_policy_full.json"    # the study of a profile

`teacher`: the lab's tiny GPT, trained on the world's dialogues with onpolicy_study.TEACHER_RECIPE, saved in fp16
with its provenance (its KL to the truth on 1,000 held-out world dialogues included).
`feasibility`, on validation seeds that the notebook never uses (100 and up), in two steps:
  1. the learning rate: the off- and on-policy students at each of --lrs over --lr-seeds seeds; chosen: the rate with
     the lowest mean KL to the truth on the students' own text (kl_own) over both;
  2. the primary measure: every student at that rate over --seeds seeds; of the two candidates the issue names
     (kl_own, derail_rate), the one whose on-policy minus off-policy difference has the larger mean over its spread.
  --lr fixes the rate and skips step 1.
`run`: the whole study of a profile, as the notebook runs it: per student kl_own, kl_world, derail_rate, ...
Overrides (--student-d, --layers, --heads, --warmup, --steps, --lr, --batch-size) explore other designs.
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
from course_utils import checkpoints, config, corpus, lm_study, onpolicy_study, stats  # noqa: E402


def teacher(args) -> dict:
    device = config.get_device()
    t0 = time.process_time()
    model, record = onpolicy_study.train_teacher(device)
    test = corpus.to_batch(corpus.sample(1_000, seed=2))
    record_ = {"kl_to_truth": lm_study.kl_to_truth(model, test), "train_seconds": record.seconds,
               "cpu_seconds": time.process_time() - t0, "recipe": onpolicy_study.TEACHER_RECIPE,
               "data": "corpus.sample(dialogues, seed=1), the world's dialogues (no persona)",
               "command": "python bench/onpolicy.py teacher", "device": config.describe()["device_name"],
               "threads": torch.get_num_threads()}
    path = checkpoints.save(model.cpu(), args.out or checkpoints.PRETRAINED_LM_TEACHER, half=True, **record_)
    shipped, _ = checkpoints.load_lm(path, "cpu")
    record_["kl_to_truth_fp16"] = lm_study.kl_to_truth(shipped, test)
    checkpoints.save(model, path, half=True, **record_)
    return record_


def summarise(results, metrics=("kl_own", "derail_rate", "kl_world", "kl_after_slip")) -> dict:
    out = {}
    for name in sorted({r.student for r in results} - {"off_policy"}):
        for metric in metrics:
            s = onpolicy_study.paired(results, metric, name)
            s["signal_to_noise"] = abs(s["mean"]) / s["sd"] if s["n"] > 1 and s["sd"] > 0 else None
            out[f"{name} - off_policy: {metric}"] = s
            print(f"{name} - off_policy, {metric}: {stats.format_interval(s, unit='', scale=1.0, digits=4)}"
                  f" (mean / sd {s['signal_to_noise'] or float('nan'):.2f})")
    return out


def decide(paired: dict) -> dict:
    """The primary measure: of the candidates the issue names, the one whose on-policy minus off-policy difference
    has the larger mean over its spread on these seeds."""
    candidates = {m: paired[f"on_policy - off_policy: {m}"] for m in ("kl_own", "derail_rate")}
    best = max(candidates, key=lambda m: candidates[m]["signal_to_noise"] or 0.0)
    return {"rule": "on_policy - off_policy: the candidate (kl_own, derail_rate) with the larger |mean| / sd",
            "primary": best, "candidates": candidates}


def study_of(args) -> onpolicy_study.OnPolicyStudy:
    study = onpolicy_study.get_study(args.profile)
    cfg = replace(study.student, **{k: v for k, v in (("d", args.student_d), ("layers", args.layers),
                                                     ("heads", args.heads)) if v is not None})
    return replace(study, student=cfg, **{k: v for k, v in (("steps", args.steps), ("lr", args.lr),
                                                           ("warmup_steps", args.warmup),
                                                           ("batch_size", args.batch_size)) if v is not None})


def study_run(study, seeds, students=None) -> dict:
    device = config.get_device()
    model, meta = onpolicy_study.load_teacher(device)
    t0, c0 = time.perf_counter(), time.process_time()
    results = onpolicy_study.run(study, model, seeds=seeds, students=students)
    for r in results:
        print(f"seed {r.seed} {r.student:11s} kl_own {r.kl_own:.4f} kl_world {r.kl_world:.4f} "
              f"after {r.kl_after_slip:.3f} derail {r.derail_rate:.3f} words {r.words_scored:,d} ({r.seconds:.1f} s)")
    return {"study": asdict(study), "seeds": list(seeds), "teacher_kl_to_truth": meta.get("kl_to_truth"),
            "results": [asdict(r) for r in results], "paired": summarise(results),
            "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}


def feasibility(args) -> dict:
    study = study_of(args)
    out = {}
    if args.lr is None:
        scan, means = {}, {}
        for lr in args.lrs:
            print(f"learning rate {lr:g}", flush=True)
            run_ = study_run(replace(study, lr=lr), range(100, 100 + args.lr_seeds), ("off_policy", "on_policy"))
            scan[f"{lr:g}"] = run_
            kl = [r["kl_own"] for r in run_["results"]]
            means[lr] = sum(kl) / len(kl)
            print(f"learning rate {lr:g}: mean kl_own over both students {means[lr]:.4f}", flush=True)
        best = min(means, key=means.get)
        out |= {"lr_scan": scan, "mean_kl_own_by_lr": {f"{k:g}": v for k, v in means.items()}, "lr_chosen": best}
        study = replace(study, lr=best)
    run_ = study_run(study, range(100, 100 + (args.seeds or 5)), args.students)
    out |= run_
    if "on_policy" in (args.students or onpolicy_study.STUDENTS):
        out["decision"] = decide(run_["paired"])
        print(f"primary: {out['decision']['primary']}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("teacher", "feasibility", "run"))
    ap.add_argument("--profile", default="quick", choices=sorted(onpolicy_study.STUDIES))
    ap.add_argument("--seeds", type=int, default=None, help="feasibility, step 2: validation seeds 100.. (default 5); "
                    "run: the study's seeds 0.. (default: the profile's)")
    ap.add_argument("--students", nargs="+", default=None, choices=onpolicy_study.STUDENTS)
    ap.add_argument("--student-d", type=int, default=None, help="override the student's width")
    ap.add_argument("--layers", type=int, default=None, help="override the student's blocks")
    ap.add_argument("--heads", type=int, default=None, help="override the student's heads")
    ap.add_argument("--warmup", type=int, default=None, help="override the off-policy warm-up steps")
    ap.add_argument("--steps", type=int, default=None, help="override the steps after the warm-up")
    ap.add_argument("--lr", type=float, default=None, help="override the learning rate")
    ap.add_argument("--batch-size", type=int, default=None, help="override the dialogues per step")
    ap.add_argument("--lrs", type=float, nargs="+", default=[0.003, 0.006, 0.012, 0.024],
                    help="feasibility, step 1: the learning rates to compare")
    ap.add_argument("--lr-seeds", type=int, default=3, help="feasibility, step 1: validation seeds per rate")
    ap.add_argument("--out", type=Path, default=None, help="JSON (teacher: the checkpoint) to write")
    args = ap.parse_args()
    if args.what == "teacher":
        record = teacher(args)
    elif args.what == "feasibility":
        record = {"what": "feasibility", "profile": args.profile, "command": " ".join(sys.argv), **feasibility(args)}
    else:
        study = study_of(args)
        record = {"what": "run", "profile": args.profile, "command": " ".join(sys.argv),
                  **study_run(study, range(args.seeds or study.seeds), args.students)}
    record |= {"threads": torch.get_num_threads(), "device": config.describe()["device_name"]}
    print(json.dumps({k: v for k, v in record.items() if k not in ("results", "paired", "lr_scan")}, indent=1,
                     default=str))
    if args.out and args.what != "teacher":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
