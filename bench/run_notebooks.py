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
import re
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _display_stubs(force: bool = False) -> dict | None:
    """Stand-ins for IPython.display's display/Markdown/HTML where IPython is missing (or force=True).

    The cells' `from IPython.display import ...` lines are then skipped and these names used instead
    (a fake IPython module would confuse matplotlib, which inspects sys.modules["IPython"]).
    """
    if not force:
        try:
            import IPython.display  # noqa: F401
            return None
        except ImportError:
            pass

    class Markdown:
        def __init__(self, data):
            self.data = data

    def display(*objs, **kw):
        for o in objs:
            print(getattr(o, "data", o))

    return {"display": display, "Markdown": Markdown, "HTML": Markdown}


IPYTHON_IMPORT = re.compile(r"^(\s*)from IPython\.display import .*$", re.M)


def run_notebook(path: Path, stubs: dict | None) -> dict:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    ns = {"__name__": "__main__", **(stubs or {})}
    timings, t_start = [], time.perf_counter()
    cwd = os.getcwd()
    os.chdir(path.parent)  # notebooks run from their own folder, as in Jupyter
    try:
        for i, cell in enumerate(cells):
            src = "".join(cell["source"])
            if stubs is not None:
                src = IPYTHON_IMPORT.sub(r"\1pass  # IPython.display: stubbed by bench/run_notebooks.py", src)
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
    stubs = _display_stubs(force=args.stub_ipython)
    import torch

    records = []
    for nb in args.notebooks:
        records.append(run_notebook(nb.resolve(), stubs))
        r = records[-1]
        print(f"== {r['notebook']}: {'ok' if r['ok'] else 'FAILED'} in {r['seconds']:.1f} s", flush=True)
        (args.out / "notebook_timings.json").write_text(json.dumps(
            {"torch": torch.__version__, "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
             "profile": os.environ.get("COURSE_PROFILE", "auto"), "runs": records}, indent=1))
    sys.exit(0 if all(r["ok"] for r in records) else 1)


if __name__ == "__main__":
    main()
