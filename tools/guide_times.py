"""The timing table of docs/instructor.md, written from committed benchmark JSON (never typed by hand).

Run times: bench/results/cpu/notebook_timings_quick.json and notebook_timings_demo.json (bench/run_notebooks.py,
quick and demo profiles, 2-core CPU) and,
once a GPU check has run, bench/results/<gpu>/notebook_timings_full.json. Reading times are an estimate computed
from the notebook itself: its markdown at 150 words a minute, its code at 12 lines a minute, a minute per figure or
widget, five minutes per exercise (the quiz counts as one). The code rate is calibrated on a reviewer's end-to-end
reading of the course (2026-12-06): a careful learner needed about 60 minutes for notebook 04 (2,835 words, 323
code lines) and 45-60 for 04b (2,540 words, 305 lines), which prose, figures and exercises alone put at 35 and 25.

Usage: python tools/guide_times.py [--check]    (--check: exit 1 if the guide's table is out of date)
"""
import argparse
import json
import re
import sys
from pathlib import Path

from course_utils import results

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "instructor.md"
CPU = ROOT / "bench" / "results" / "cpu" / "notebook_timings_quick.json"
DEMO = ROOT / "bench" / "results" / "cpu" / "notebook_timings_demo.json"
START, END = "<!-- timings:start (tools/guide_times.py) -->", "<!-- timings:end -->"
REHEARSAL = ("<!-- rehearsal:start (tools/guide_times.py) -->", "<!-- rehearsal:end -->")
PLAN_90 = ("00_welcome", "01_soft_labels_and_temperature", "03_distill_the_student", "04_blackbox_distillation")
WORDS_PER_MINUTE, CODE_LINES_PER_MINUTE, MINUTES_PER_FIGURE, MINUTES_PER_EXERCISE = 150, 12, 1, 5


def machine(path: Path) -> str:
    """The machine a timing record was measured on, in words."""
    if not path.exists():
        return "not measured"
    r = json.loads(path.read_text())
    cpu = f"{r['cpu_count']} cores, {r['cpu']}" if "cpu" in r else r["device"]
    return f"{cpu}, torch {r['torch']}" + (f", {r['date']}" if "date" in r else "")


def gpu_device() -> str:
    for path in sorted((ROOT / "bench" / "results").glob("*/notebook_timings_full.json"))[:1]:
        return json.loads(path.read_text())["device"]
    return ""


def reading_minutes(path: Path) -> tuple[int, int, int, int, int]:
    """(words, code lines, figures and widgets, exercises, estimated minutes) of one notebook, solutions and the
    cloud set-up cell left out."""
    cells = [c for c in json.loads(path.read_text())["cells"]
             if not {"solution", "cloud-setup"} & set(c["metadata"].get("tags", []))]
    words = sum(len("".join(c["source"]).split()) for c in cells if c["cell_type"] == "markdown")
    code = sum(len([line for line in "".join(c["source"]).splitlines() if line.strip()])
               for c in cells if c["cell_type"] == "code")
    figures = sum(any("image/png" in o.get("data", {}) or "widget" in str(o.get("data", {}).get("text/plain", ""))
                      for o in c.get("outputs", [])) for c in cells)
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    exercises = sum(src.lstrip().startswith("# Exercise") or "my_answers = {" in src for src in sources)
    minutes = (words / WORDS_PER_MINUTE + code / CODE_LINES_PER_MINUTE + MINUTES_PER_FIGURE * figures
               + MINUTES_PER_EXERCISE * exercises)
    return words, code, figures, exercises, round(minutes / 5) * 5


def fmt(seconds) -> str:
    return "not yet measured" if seconds is None else results.format_seconds(seconds)


def table() -> str:
    times, device_gpu = results.run_times(), gpu_device()
    rows = ["| notebook | run, quick (2-core CPU) | run, demo (2-core CPU) | run, full (GPU) | words, boxes included | code lines | "
            "figures | exercises and quiz | reading and exercises (estimate) |", "|---|---|---|---|---|---|---|---|---|"]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        words, code, figures, exercises, minutes = reading_minutes(path)
        t = times.get(path.name, {})
        rows.append(f"| {path.stem} | {fmt(t.get('quick'))} | {fmt(t.get('demo'))} | {fmt(t.get('full'))} | {words:,} | "
                    f"{code} | {figures} | {exercises} | about {minutes} min |")
    source = (f"Run times: `{CPU.relative_to(ROOT)}` ({machine(CPU)}) and `{DEMO.relative_to(ROOT)}` "
              f"({machine(DEMO)})")
    source += f"; GPU: {device_gpu}." if device_gpu else "; the full profile has not yet run end to end on a GPU for these versions."
    return "\n".join([START, *rows, "", source, END])


def rehearsal() -> str:
    """The 90-minute plan's notebooks run in the demo profile: their measured times, and what that leaves."""
    times = results.run_times()
    demo = {name: times.get(f"{name}.ipynb", {}).get("demo") for name in PLAN_90}
    if None in demo.values():
        line = "The 90-minute plan has not been rehearsed in the demo profile for these versions."
    else:
        each = ", ".join(f"{name[:2]} {results.format_seconds(t)}" for name, t in demo.items())
        slowest = max(demo.values())
        line = (f"Rehearsed in the demo profile ({machine(DEMO)}): the plan's notebooks ran in {each}, "
                f"{results.format_seconds(sum(demo.values()))} in all"
                + (", so each is ready in its slot's first minute and the rest is talk, sliders and reading."
                   if slowest < 60 else f"; the slowest takes {results.format_seconds(slowest)}: start it before its slot."))
    return "\n".join([REHEARSAL[0], line, REHEARSAL[1]])


def blocks(text: str) -> str:
    """The guide with its generated blocks rewritten."""
    for (start, end), make in (((START, END), table), (REHEARSAL, rehearsal)):
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise SystemExit(f"{GUIDE.relative_to(ROOT)} has no {start} ... {end} block: add one where it goes")
        text = pattern.sub(lambda _: make(), text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the guide's table is out of date")
    args = parser.parse_args(argv)
    text = GUIDE.read_text()
    new = blocks(text)
    if args.check:
        if new != text:
            print(f"{GUIDE.relative_to(ROOT)}'s timing table is out of date: run python tools/guide_times.py")
            return 1
        return 0
    GUIDE.write_text(new)
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
