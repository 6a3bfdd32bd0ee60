"""Execute notebooks headless as plain Python and time them; each notebook saves its own figures.

    python bench/run_notebooks.py notebooks/02_train_the_teacher.ipynb notebooks/03_distill_the_student.ipynb

For machines without Jupyter (a bare GPU box): code cells run in one namespace per notebook, in
order, with matplotlib's Agg backend, `IPython.display` stubbed when IPython is missing, and no
magics. Notebooks write their measured figures with course_utils.config.save_results(); this
script points that at --out and adds a timing record (seconds per cell and per notebook).
Where Jupyter is installed, `make notebooks` (nbval) is the real test; this is the benchmark.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _stub_ipython(force: bool = False) -> None:
    if not force:
        try:
            import IPython.display  # noqa: F401
            return
        except ImportError:
            pass

    def display(*objs, **kw):
        for o in objs:
            print(getattr(o, "data", o))

    class Markdown:
        def __init__(self, data):
            self.data = data

    disp = types.ModuleType("IPython.display")
    disp.display, disp.Markdown, disp.HTML = display, Markdown, Markdown
    pkg = types.ModuleType("IPython")
    pkg.display = disp
    sys.modules["IPython"], sys.modules["IPython.display"] = pkg, disp


def run_notebook(path: Path) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    ns = {"__name__": "__main__"}
    timings, t_start = [], time.perf_counter()
    cwd = os.getcwd()
    os.chdir(path.parent)  # notebooks run from their own folder, as in Jupyter
    try:
        for i, cell in enumerate(cells):
            src = "".join(cell["source"])
            t0 = time.perf_counter()
            try:
                exec(compile(src, f"{path.name}[cell {i}]", "exec"), ns)
            except Exception:
                traceback.print_exc()
                return {"notebook": path.name, "ok": False, "failed_cell": i,
                        "seconds": round(time.perf_counter() - t_start, 2), "cell_seconds": timings}
            finally:
                plt.close("all")
            timings.append(round(time.perf_counter() - t0, 2))
            print(f"[{path.name}] cell {i:2d} {timings[-1]:7.2f} s", flush=True)
    finally:
        os.chdir(cwd)
    return {"notebook": path.name, "ok": True, "seconds": round(time.perf_counter() - t_start, 2),
            "cell_seconds": timings}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "local")
    ap.add_argument("--stub-ipython", action="store_true", help="use the stubs even where IPython exists (a test)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["COURSE_RESULTS_DIR"] = str(args.out.resolve())
    sys.path.insert(0, str(ROOT))
    _stub_ipython(force=args.stub_ipython)
    import torch

    records = []
    for nb in args.notebooks:
        records.append(run_notebook(nb.resolve()))
        r = records[-1]
        print(f"== {r['notebook']}: {'ok' if r['ok'] else 'FAILED'} in {r['seconds']:.1f} s", flush=True)
        (args.out / "notebook_timings.json").write_text(json.dumps(
            {"torch": torch.__version__, "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
             "profile": os.environ.get("COURSE_PROFILE", "auto"), "runs": records}, indent=1))
    sys.exit(0 if all(r["ok"] for r in records) else 1)


if __name__ == "__main__":
    main()
