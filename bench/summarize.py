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
    if "decision" in d:  # notebook 07's feasibility (bench/onpolicy.py)
        c = d["decision"]["candidates"]
        return (f"lr {d.get('lr_chosen', d['study']['lr']):g}; primary {d['decision']['primary']}; on-policy - "
                "off-policy: " + "; ".join(f"{m} {s['mean']:+.4f} [{s['lo']:+.4f}, {s['hi']:+.4f}] (n={s['n']})"
                                           for m, s in c.items()))
    if d.get("what") == "run" and "paired" in d:  # notebook 07's study run (bench/onpolicy.py run)
        return (f"{d.get('threads', '?')} threads; " + "; ".join(
            f"{k} {s['mean']:+.4f} [{s['lo']:+.4f}, {s['hi']:+.4f}] (n={s['n']})" for k, s in d["paired"].items())
            + f"; {d['cpu_seconds']:.0f} s of CPU")
    if "detection" in d:  # notebook 05, or bench/detect_feasibility.py
        x = d["detection"]
        flagged = {g: f"{sum(s['flagged'] for s in x['per_suspect'] if s['group'] == g)} of "
                      f"{sum(s['group'] == g for s in x['per_suspect'])}" for g in ("API copy", "white-box copy", "independent")}
        return (f"watermark: API copies' AUC {x['api_copies_auc']:.3f} (p {x['p_value']:.1e}, floor {x['p_floor']:.1e}); "
                f"flagged per suspect at alpha {x['alpha']:g}: " + ", ".join(f"{g} {n}" for g, n in flagged.items()))
    if "all_agree" in d:  # notebook 03's primary at several thread counts and numerics
        return (f"every run excludes zero: {d['all_exclude_zero']}; every pair's paired difference includes zero: "
                f"{d['all_agree']}; every pair's intervals overlap: {d['all_overlap']}")
    if "primary" in d and "gain_over_hard" not in d:  # notebook 03 and bench/distill_study.py --primary
        p, accs = d["primary"], ", ".join(f"{arm} {pct(np.mean(a))}" for arm, a in d["accuracy"].items())
        return (f"blended - hard {p['mean']:+.2f} [{p['lo']:+.2f}, {p['hi']:+.2f}] (n={p['n_seeds']}); {accs}; "
                f"{d.get('threads', d.get('cpu_threads'))} threads, {d.get('numerics', '')}")
    if "primary" in d:  # notebook 03, validation-chosen design, before each seed drew its own labelled images
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
    if "weights_sha256" in runs[0]:  # determinism.py: which runs repeat which
        return "; ".join(f"{r['numerics']} {r['threads']}t {r['isa']}: loss {r['epoch_loss'][-1]:.4f} test "
                         f"{pct(r['test_acc'][-1])} {r['weights_sha256'][:8]}" for r in runs)
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
