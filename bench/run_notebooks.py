"""Execute notebooks with a real Jupyter kernel (nbclient) and time every cell; each notebook saves its own figures.

    COURSE_PROFILE=full python bench/run_notebooks.py notebooks/02_*.ipynb notebooks/03_*.ipynb --out bench/results/local

Parameters reach the notebooks as the environment variables they already read: COURSE_PROFILE (quick or
full; --profile sets it) and COURSE_RESULTS_DIR, pointed at --out, where `course_utils.results.save` writes
each notebook's measured figures. Into --out go: each executed notebook (outputs kept, to open and review,
also when a cell failed) and notebook_timings.json (seconds per code cell, from nbclient's `execution`
cell metadata, and per notebook). Exits 1 if any notebook fails.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def cpu_name() -> str:
    """The CPU's model name (Linux), else what the platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown"


def cell_seconds(cell) -> float | None:
    """Seconds from the kernel's busy to its reply, from the timestamps nbclient records (record_timing)."""
    t = cell.metadata.get("execution", {})
    if "iopub.status.busy" not in t or "shell.execute_reply" not in t:
        return None  # not executed (a cell after a failure)
    start, end = (datetime.fromisoformat(t[k].rstrip("Z")) for k in ("iopub.status.busy", "shell.execute_reply"))
    return round((end - start).total_seconds(), 2)


def run_notebook(path: Path, out: Path, timeout: int, kernel: str) -> dict:
    """Execute one notebook from its own folder (as Jupyter does), write it to out/, return its timing record."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel, record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    t0, error = time.perf_counter(), None
    try:
        client.execute()
    except Exception as e:  # CellExecutionError, a timeout, a dead kernel: the notebook failed
        error = f"{getattr(e, 'ename', type(e).__name__)}: {str(getattr(e, 'evalue', e))[:500]}"
    seconds = round(time.perf_counter() - t0, 2)
    nbformat.write(nb, out / path.name)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    failed = [i for i, c in code if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    record = {"notebook": path.name, "ok": error is None, "seconds": seconds,
              "cell_seconds": [cell_seconds(c) for _, c in code],  # one per code cell, in order
              "cell_index": [i for i, _ in code]}  # each code cell's position among all cells
    if error is not None:
        record |= {"failed_cell": failed[0] if failed else None, "error": error}
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "local")
    ap.add_argument("--profile", choices=("quick", "full", "demo"), default=None, help="sets COURSE_PROFILE (default: as set)")
    ap.add_argument("--timeout", type=int, default=1200, help="seconds one cell may run")
    ap.add_argument("--kernel", default="python3", help="Jupyter kernel name")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["COURSE_RESULTS_DIR"] = str(args.out.resolve())  # the kernels inherit this environment ...
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    # ... and find course_utils from the repository where it is not installed (a bare GPU machine)
    if args.profile:
        os.environ["COURSE_PROFILE"] = args.profile
    try:  # only to name the device in the timing record
        import torch
        device, version = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu", torch.__version__
    except ImportError:
        device, version = "unknown (no torch in this Python)", None
    record = {"torch": version, "device": device, "profile": os.environ.get("COURSE_PROFILE", "auto"),
              "python": sys.version.split()[0], "cpu": cpu_name(), "cpu_count": os.cpu_count(),
              "date": datetime.now().strftime("%Y-%m-%d"), "runs": []}
    for nb in args.notebooks:
        print(f"== {nb.name}: running ...", flush=True)
        r = run_notebook(nb.resolve(), args.out, args.timeout, args.kernel)
        record["runs"].append(r)
        (args.out / "notebook_timings.json").write_text(json.dumps(record, indent=1))
        status = "ok" if r["ok"] else f"FAILED at cell {r['failed_cell']}: {r['error'][:200]}"
        print(f"== {r['notebook']}: {status} in {r['seconds']:.1f} s -> {args.out / nb.name}", flush=True)
    sys.exit(0 if all(r["ok"] for r in record["runs"]) else 1)


if __name__ == "__main__":
    main()
