"""Notebook 04's primary comparison under this process's numerics and thread count, and whether runs agree.

    OMP_NUM_THREADS=2 COURSE_CPU_NUMERICS=fp32 python bench/blackbox_primary.py --out bench/results/cpu/blackbox_primary_fp32_2t.json
    python bench/blackbox_primary.py --compare bench/results/cpu/blackbox_primary_*.json --out bench/results/cpu/blackbox_primary_robustness.json

The first form trains the notebook's own student and its copy at the largest budget, for every seed of the study
(`course_utils.blackbox_study`: `split`, `buy`, `copy_arm`, `primary`), and writes the results contract with the
numerics and threads it ran under. The second compares such files: does each meet the notebook's targets, and do
their gain intervals overlap (a thread count or a number format that changes the conclusion would not)?
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
from course_utils import blackbox_study as bs  # noqa: E402
from course_utils import checkpoints, config, data, metrics, numerics  # noqa: E402


def run(profile: str) -> dict:
    t0, cpu0 = time.perf_counter(), time.process_time()
    device = config.get_device()
    study = bs.get_study(profile)
    cifar = data.load_cifar10(device)
    teacher, _ = checkpoints.load_teacher(device, verbose=False)
    sp = bs.split(cifar, study)
    lab = bs.Lab(sp.test_images, sp.test_labels, bs.teacher_answers(teacher, sp.test_images))
    answers = bs.buy(teacher, sp.stream, study)
    copies = [bs.copy_arm(sp, answers, "label", b, s, study, lab) for s in study.seeds for b in (bs.OWN, max(study.budgets))]
    result = bs.primary(copies, study, metrics.agreement(lab.teacher, lab.labels))
    chosen = numerics.chosen(device)
    return {**result, "targets": bs.targets(result), "profile": profile, "device": config.describe()["device_name"],
            "processor": platform.processor(), "threads": torch.get_num_threads(),
            "numerics": str(chosen) if chosen else "fp32", "torch": torch.__version__, "data": cifar.source,
            "copies": bs.records(copies), "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - cpu0,
            "date": time.strftime("%Y-%m-%d"), "command": "python bench/blackbox_primary.py " + " ".join(sys.argv[1:])}


def compare(paths: list[Path]) -> dict:
    runs = {p.name: json.loads(p.read_text()) for p in paths}
    rows = [{"run": name, "numerics": r["numerics"], "threads": r["threads"], **{k: r["primary"][k] for k in ("mean", "lo", "hi")},
             "fidelity_over_floor": r["fidelity_over_floor"], "accuracy": r["accuracy"],
             "targets_met": all(t["met"] == "yes" for t in r["targets"])} for name, r in runs.items()]
    overlap = max(r["lo"] for r in rows) <= min(r["hi"] for r in rows)
    return {"runs": rows, "gain_intervals_overlap": overlap, "all_meet_targets": all(r["targets_met"] for r in rows)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="quick", choices=sorted(bs.STUDIES))
    ap.add_argument("--compare", type=Path, nargs="+", default=None, help="compare these result files instead")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    record = compare(args.compare) if args.compare else run(args.profile)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    print(json.dumps({k: v for k, v in record.items() if k != "copies"}, indent=1))


if __name__ == "__main__":
    main()
