"""One line of headline figures per committed benchmark JSON, read from the files (bench/README.md's table).

    python bench/summarize.py                  # every JSON under bench/results/ (cpu/, h100/, gpu/, ...)
    python bench/summarize.py bench/results/local/full

Accuracies and gains in percent (points); gains are paired over seeds, with their 95% interval.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def gain(g: dict) -> str:
    return f"{100 * g['mean']:+.2f} [{100 * g['lo']:+.2f}, {100 * g['hi']:+.2f}] (n={g['n']})"


def headline(d: dict) -> str:
    """The figures a reader needs from one result file, whatever script wrote it."""
    runs = d.get("runs") or [{}]
    if "fidelity_over_floor" in d:  # notebook 04's primary (blackbox_primary.py)
        p, a = d["primary"], d["accuracy"]
        return (f"copy - own labels {p['mean']:+.2f} [{p['lo']:+.2f}, {p['hi']:+.2f}] (n={p['n_seeds']}); copy "
                f"{a['copy']:.2f}%, own labels {a['own_labels']:.2f}%, teacher {a['teacher']:.2f}%; {d['numerics']}, "
                f"{d['threads']} threads")
    if "gain_intervals_overlap" in d:  # blackbox_primary.py --compare
        return (f"{len(d['runs'])} runs; gain intervals overlap: {d['gain_intervals_overlap']}; all meet the targets: "
                f"{d['all_meet_targets']}")
    if "born_again_minus_teacher" in d:  # born_again.py
        return (f"teachers {', '.join(pct(a) for a in d['teacher_acc'])}; born-again - its teacher "
                f"{gain(d['born_again_minus_teacher'])}; ensemble student - mean teacher "
                f"{gain(d['ensemble_student_minus_mean_teacher'])}; the ensemble {pct(d['ensemble_acc'])}")
    if "chosen" in d:  # blackbox_choices.py
        return "; ".join(f"{arm} lr {c['lr']:g}, {c['passes']:g} passes ({pct(c['val_acc'])} val)"
                         for arm, c in d["chosen"].items())
    if "primary" in d:  # notebook 03, validation-chosen design
        accs = ", ".join(f"{arm} {pct(np.mean(a))}" for arm, a in d["accuracy"].items())
        return f"blended - hard {gain(d['gain_over_hard']['blended'])}; {accs}; {d['total_seconds']:.0f} s"
    if "accuracy" in d:  # notebook 03, earlier design
        accs = ", ".join(f"{arm} {pct(np.mean(a))}" for arm, a in d["accuracy"].items())
        gains = "; ".join(f"{arm} {gain(g)}" for arm, g in d["gain_over_hard"].items())
        return f"{accs}; gain over hard: {gains}"
    if "chosen_lr" in d:
        return "; ".join(f"{arm} lr {lr:g} ({pct(d['mean_val_acc'][arm][f'{lr:g}'])} val)"
                         for arm, lr in d["chosen_lr"].items())
    if "test_acc" in d:  # notebook 02
        return f"teacher {pct(d['test_acc'])} (flip TTA {pct(d['test_acc_flip_tta'])}) in {d['train_seconds']:.2f} s"
    if "teachers" in d:  # train_bench.py
        out = [f"teacher e{t.get('epochs', '-')} s{t.get('seed', '-')} {pct(t['test_acc'])}"
               + (f" (TTA {pct(t['test_acc_flip_tta'])}, {t['train_seconds']:.2f} s)" if "test_acc_flip_tta" in t else "")
               + (f" agree {pct(t['test_pred_agreement_with_first'])}" if "test_pred_agreement_with_first" in t else "")
               for t in d["teachers"]]
        hard = defaultdict(list)
        for s in d["students"]:
            if s["arm"] == "hard":
                hard[s["epochs"]].append(pct(s["test_acc"]))
        out += [f"hard e{e:g}: {' / '.join(a)}" for e, a in hard.items()]
        gains = d.get("gain_over_hard", {}).get("test_acc") or d.get("kd_gain_over_hard", {})
        out += [f"{k} {gain(g)}" for k, g in gains.items()]
        return "; ".join(out)
    if "speedup_train" in runs[0]:
        return "; ".join(f"{r['model']} batch {r['batch']}: train x{r['speedup_train']:.2f}, "
                         f"inference x{r['speedup_infer']:.2f}" for r in runs)
    if "budget" in runs[0]:
        groups = defaultdict(list)
        for r in runs:
            groups[(r["min_steps"], r["budget"], r.get("size", "student"))].append(r)
        return "; ".join(f"min_steps {m} budget {b} {size}: acc {pct(np.mean([r['acc'] for r in rs]))}, "
                         f"fid {pct(np.mean([r['fid'] for r in rs]))} ({len(rs)} seeds)"
                         for (m, b, size), rs in groups.items())
    if "notebook" in runs[0]:
        return "; ".join(f"{r['notebook']} {'ok' if r['ok'] else 'FAILED'} {r['seconds']:.1f} s" for r in runs)
    if "labelled_per_class" in runs[0]:  # the design exploration: blended - hard per seed
        val = {(r["labelled_per_class"], r["epochs"], r["alpha"], r["lr"], r["seed"], r["arm"]): r["val_acc"] for r in runs}
        gains = defaultdict(list)
        for (pc, e, a, lr, seed, arm), v in val.items():
            if arm == "blended" and (pc, e, a, lr, seed, "hard") in val:
                gains[(pc, e, a, lr)].append(100 * (v - val[(pc, e, a, lr, seed, "hard")]))
        return "; ".join(f"{pc}/class e{e} alpha {a:g} lr {lr:g}: {', '.join(f'{g:+.1f}' for g in gs)}"
                         for (pc, e, a, lr), gs in gains.items())
    if "mean" in d:  # the earlier student learning-rate scan
        return "; ".join(f"{k} {pct(v)}" for k, v in d["mean"].items())
    return "(no headline known for this file)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="*", type=Path, default=[RESULTS])
    args = ap.parse_args()
    for folder in args.folders:
        for f in sorted(folder.rglob("*.json")):
            d = json.loads(f.read_text())
            where = f"{d.get('device_name', d.get('device', '?'))}, {d.get('profile', '-')}"
            print(f"{f.relative_to(folder)} [{where}]: {headline(d)}")
            if "command" in d:
                print(f"    command: {d['command']}")


if __name__ == "__main__":
    main()
