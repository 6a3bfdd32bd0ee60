"""Notebook 05's study from the command line (course_utils.detect_study): train and question every suspect,
then write the per-suspect decisions, the panel verdicts and the time taken as JSON.

    python bench/detect_feasibility.py --profile quick --pilot --out bench/results/cpu/detect_pilot_quick.json
    OMP_NUM_THREADS=1 python bench/detect_feasibility.py --out t1.json      # the notebook's seeds, 1 thread
    python bench/detect_feasibility.py --compare t1.json t2.json t4.json   # does each suspect's decision hold?

--pilot runs the same design on other seeds, images, probe images and watermark key (detect_study.pilot):
where the study's choices are made. The thread count is the process's (OMP_NUM_THREADS)."""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

from course_utils import checkpoints, config, data, detect_study, files


def run(profile: str, pilot: bool) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    device = config.get_device()
    study = detect_study.get_study(profile)
    if pilot:
        study = detect_study.pilot(study)
    cifar = data.load_cifar10(device)
    teacher, _ = checkpoints.load_teacher(device, verbose=False)
    interrogation = detect_study.interrogate.__wrapped__(teacher, cifar, study, device)  # never the demo's replay
    info = config.describe()
    return {"profile": profile, "pilot": pilot, "threads": torch.get_num_threads(), "device": str(info["device_name"]),
            "torch": str(info["torch"]), "wall_seconds": time.perf_counter() - start,
            "cpu_seconds": time.process_time() - cpu, "command": " ".join(sys.argv),
            **detect_study.summary(interrogation, study)}


def compare(paths: list) -> None:
    """Each suspect's p-value and decision in each run, and whether the decision is the same in all."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    print("suspect".ljust(18) + "".join(f"{r['threads']:>3d} thread(s) ".rjust(22) for r in runs) + "  same decision")
    for i, s in enumerate(runs[0]["detection"]["per_suspect"]):
        row = [r["detection"]["per_suspect"][i] for r in runs]
        assert all(x["name"] == s["name"] for x in row), "the runs hold different suspects"
        cells = "".join(f"p={x['p']:9.2e} {'flag' if x['flagged'] else '-':>4s}".rjust(22) for x in row)
        print(s["name"].ljust(18) + cells + f"  {'yes' if len({x['flagged'] for x in row}) == 1 else 'NO'}")
    for r in runs:
        d = r["detection"]
        print(f"{r['threads']} thread(s): API copies' AUC {d['api_copies_auc']:.3f} (p = {d['p_value']:.2g}), "
              f"{r['cpu_seconds']:.0f} s CPU, {r['wall_seconds']:.0f} s wall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--pilot", action="store_true", help="other seeds, images and key (the choices' pilot)")
    parser.add_argument("--out", help="the JSON to write (default: print only)")
    parser.add_argument("--compare", nargs="+", metavar="JSON", help="compare runs written before, and stop")
    args = parser.parse_args()
    if args.compare:
        return compare(args.compare)
    record = run(args.profile, args.pilot)
    for s in record["detection"]["per_suspect"]:
        print(f"{s['name']:18s} {s['group']:15s} {s['hits']:3d} of {s['trials']}  p = {s['p']:.2e}"
              f"{'  flagged' if s['flagged'] else ''}")
    print(f"{record['threads']} thread(s): {record['cpu_seconds']:.0f} s CPU, {record['wall_seconds']:.0f} s wall")
    if args.out:
        files.write_atomic(Path(args.out), lambda tmp: tmp.write_text(json.dumps(record, indent=1, default=float)))


if __name__ == "__main__":
    main()
