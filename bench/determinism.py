"""Does a run repeat on another machine if the thread count is pinned? Notebook 02's quick demo teacher
(2 epochs on 200 images per class, batch 256, seed 0, the teacher recipe: the cell whose loss lines are committed)
trained in fresh processes under several thread counts, numerics and instruction sets, each run's per-epoch loss,
test accuracy and a checksum of its weights recorded.

Another CPU is emulated on this one by capping the instruction sets PyTorch's kernels may use (ATEN_CPU_CAPABILITY
for its own kernels, ONEDNN_MAX_CPU_ISA for the convolutions, MKL_ENABLE_INSTRUCTIONS for matrix products):
"avx2" is a processor without AVX-512 (e.g. an AMD EPYC before Zen 4), "avx512" one with AVX-512 and bf16 but no
AMX (e.g. Zen 4), "native" this machine's own. `--course-root` runs another checkout of course_utils (an older
commit, to compare with outputs committed from it).

    python bench/determinism.py --out bench/results/cpu/determinism.json                 # ~10 min at 2 threads
    python bench/determinism.py --runs fp32:2:native fp32:2:avx2 --out bench/results/local/d.json
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from run_notebooks import cpu_name  # bench/ is this script's folder

ROOT = Path(__file__).resolve().parent.parent
ISA = {  # environment that caps the instruction sets, set before torch is imported
    "native": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "avx512": {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_BF16",
               "MKL_ENABLE_INSTRUCTIONS": "AVX512"},
}
DEFAULT_RUNS = ["fp32:2:native", "fp32:2:native", "fp32:1:native", "fp32:2:avx2", "fp32:2:avx512",
                "auto:2:native", "bf16:2:avx512"]


def worker(threads: int) -> dict:
    """One run of notebook 02's demo teacher, in this process (its environment fixed by the caller)."""
    import torch

    torch.set_num_threads(threads)
    from course_utils import config, data, models, train

    cifar = data.load_cifar10("cpu").subset(200, 200)  # notebook 02's quick TeacherRun
    loader = data.Loader(cifar.train_images, cifar.train_labels, batch_size=256, seed=0)
    config.set_seed(0)
    net = models.make_teacher(whiten_with=cifar.train_images)
    start = time.process_time()
    history = train.fit(net, loader, cfg=train.TEACHER_RECIPE, epochs=2,
                        eval_data=(cifar.test_images, cifar.test_labels), verbose=False)
    weights = b"".join(v.detach().float().contiguous().numpy().tobytes() for v in net.state_dict().values())
    numerics = sys.modules.get("course_utils.numerics")
    chosen = str(numerics.for_device(torch.device("cpu"), announce=False)) if numerics else "fp32 (before numerics)"
    return {"epoch_loss": history.train_loss, "test_acc": history.test_acc, "weights_sha256": hashlib.sha256(weights).hexdigest()[:16],
            "numerics_used": chosen, "cpu_seconds": round(time.process_time() - start, 1),
            "torch_capability": torch.backends.cpu.get_cpu_capability()}


def committed_nb02() -> dict:
    """The loss and accuracy lines of notebook 02's demo teacher as committed, read from the notebook."""
    text = (ROOT / "notebooks" / "02_train_the_teacher.ipynb").read_text()
    rows = re.findall(r"epoch +(\d+) +loss ([\d.]+) +train ([\d.]+)% +test ([\d.]+)%", text)
    return {"epoch_loss": [float(r[1]) for r in rows], "test_acc": [float(r[3]) / 100 for r in rows]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="+", default=DEFAULT_RUNS, help="numerics:threads:isa, numerics fp32|bf16|auto")
    ap.add_argument("--course-root", type=Path, default=ROOT, help="the checkout whose course_utils runs")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "local" / "determinism.json")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    record = {"what": "notebook 02's quick demo teacher under thread counts, numerics and instruction sets",
              "course_root": str(args.course_root), "committed_nb02": committed_nb02(), "runs": []}
    import torch

    record.update(torch=torch.__version__, cpu=cpu_name(), cpu_count=os.cpu_count(), date=time.strftime("%Y-%m-%d"),
                  device="cpu", device_name=f"{cpu_name()}, {os.cpu_count()} cores",
                  command="python bench/determinism.py " + " ".join(sys.argv[1:]))
    for spec in args.runs:
        numerics, threads, isa = spec.split(":")
        env = {**os.environ, **ISA[isa], "OMP_NUM_THREADS": threads, "COURSE_CPU_NUMERICS": numerics,
               "PYTHONPATH": str(args.course_root), "COURSE_DATA_DIR": str(ROOT / "data"),
               "COURSE_WORK_DIR": str(ROOT / "data")}
        done = subprocess.run([sys.executable, __file__, "--worker", threads], env=env, cwd=args.course_root,
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{spec} failed:\n{done.stderr[-2000:]}")
        run = {"numerics": numerics, "threads": int(threads), "isa": isa, **json.loads(done.stdout.splitlines()[-1])}
        record["runs"].append(run)
        print(f"{spec:16s} loss {[round(x, 4) for x in run['epoch_loss']]} test {run['test_acc']} "
              f"{run['weights_sha256']} ({run['numerics_used']}, {run['torch_capability']}, {run['cpu_seconds']} s CPU)",
              flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
