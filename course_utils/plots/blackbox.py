"""Notebooks 04 and 04b: black-box distillation figures (budget curves, grouped bars, the teacher cap)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def _mean_band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high) over the last axis (seeds): the band is the min-max range of the seeds."""
    return values.mean(-1), values.min(-1), values.max(-1)


def plot_budget_curves(curves: dict, budgets, teacher_acc: float | None = None, title: str = "",
                       price_per_1k: float | None = None):
    """Student accuracy and fidelity against the number of queries, one line per exposure.

    curves: {exposure: {"acc": array (budgets, seeds), "fid": array (budgets, seeds)}} in [0, 1].
    Lines are seed means; the shaded bands span the seeds (min to max). A "text" curve equal to
    "label" is drawn dashed, without a band, on top of it.
    """
    budgets = np.asarray(budgets, dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    styles = {"logits": ("tab:gray", ":"), "probs": ("tab:blue", "-"), "top_k": ("tab:green", "-"),
              "label": ("tab:red", "-"), "text": ("tab:orange", "--")}
    for ax, key, name, unit in ((axes[0], "acc", "test accuracy (agreement with the truth)", "accuracy (%)"),
                                (axes[1], "fid", "fidelity (agreement with the teacher)", "fidelity (%)")):
        top = 0.0
        for exposure, c in curves.items():
            color, ls = styles.get(exposure, ("black", "-"))
            mean, lo, hi = _mean_band(100 * np.asarray(c[key], dtype=float))
            top = max(top, hi.max())
            if exposure == "text":
                ax.plot(budgets, mean, ls, color=color, lw=1.2, label="text (parsed = label)")
                continue
            ax.plot(budgets, mean, ls, color=color, marker="o", ms=4, label=exposure)
            ax.fill_between(budgets, lo, hi, color=color, alpha=0.15)
        if key == "acc" and teacher_acc is not None:
            if 100 * teacher_acc < top + 15:  # close enough to draw without squashing the curves
                ax.axhline(100 * teacher_acc, color="black", lw=0.8, ls="--", label="teacher")
            else:
                ax.set_title(f"{name}\nteacher: {100 * teacher_acc:.1f}% (off the top)", fontsize=10)
        if not ax.get_title():
            ax.set_title(name, fontsize=10)
        ax.set_xscale("log")
        ticks = [f"{int(b):,d}" + (f"\n${b * price_per_1k / 1000:,.2f}" if price_per_1k is not None else "")
                 for b in budgets]
        ax.set_xticks(budgets, ticks)
        ax.minorticks_off()
        ax.set(xlabel="queries bought, log scale" + (f" (and their price at ${price_per_1k:g} per 1,000)"
                                                     if price_per_1k is not None else ""), ylabel=unit)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_grouped(values: dict, ylabel: str, title: str, reference: float | None = None,
                 reference_label: str = "teacher", chance: float | None = None):
    """Bars of seed means with the seeds as dots: {group: {arm: [value per seed]}}, values in [0, 1].

    chance: a level to draw as "chance" (e.g. 0.1 for ten classes)."""
    groups = list(values)
    arms = list(dict.fromkeys(a for g in groups for a in values[g]))
    width = 0.8 / len(arms)
    fig, ax = plt.subplots(figsize=(1.9 * len(groups) + 2.5, 3.8))
    for j, arm in enumerate(arms):
        xs = np.arange(len(groups)) + (j - (len(arms) - 1) / 2) * width
        means = [100 * np.mean(values[g][arm]) if arm in values[g] else np.nan for g in groups]
        ax.bar(xs, means, width * 0.9, label=arm, alpha=0.8)
        for x, g in zip(xs, groups):
            if arm in values[g]:
                ax.plot([x] * len(values[g][arm]), 100 * np.asarray(values[g][arm]), "k.", alpha=0.6)
        for x, m in zip(xs, means):
            if not np.isnan(m):
                ax.text(x, m + 2.5, f"{m:.0f}", ha="center", fontsize=7)
    if reference is not None:
        ax.axhline(100 * reference, color="black", ls="--", lw=0.8, label=reference_label)
    if chance is not None:
        ax.axhline(100 * chance, color="grey", ls=":", lw=1.0, label="chance")
    ax.set_xticks(range(len(groups)), groups)
    ax.set(ylabel=ylabel, title=title, ylim=(0, 100))
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_teacher_cap(rows: list, truth_acc=None):
    """Student accuracy and fidelity against its teacher's accuracy, with the line student = teacher.

    rows: [{"teacher": name, "teacher_acc": a, "student_acc": [per seed], "fidelity": [per seed]}], each with an
    optional "twin_agreement" (the teacher's twin, another seed, agreeing with it), drawn as a cross.
    truth_acc: accuracies (per seed) of the same student trained on the true labels, drawn as a level.
    """
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.5, 4))
    ta = np.array([100 * r["teacher_acc"] for r in rows])
    lo, hi = min(ta.min(), 10) - 5, 100
    a1.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="student = teacher")
    for r, x in zip(rows, ta):
        s = 100 * np.asarray(r["student_acc"])
        a1.plot([x] * len(s), s, "o", color="tab:blue", alpha=0.5, ms=4)
        f = 100 * np.asarray(r["fidelity"])
        a2.plot([x] * len(f), f, "o", color="tab:purple", alpha=0.5, ms=4)
        for ax, y in ((a1, s.mean()), (a2, f.mean())):  # the label left of points near the right edge
            ax.annotate(r["teacher"], (x, y), textcoords="offset points", xytext=(-6 if x > 70 else 6, -12),
                        fontsize=8, ha="right" if x > 70 else "left")
    a1.plot(ta, [100 * np.mean(r["student_acc"]) for r in rows], "-", color="tab:blue", label="student (mean)")
    if truth_acc is not None:
        a1.axhline(100 * np.mean(truth_acc), color="tab:green", ls=":", lw=1.2,
                   label="same student, true labels of the same images")
    a2.plot(ta, [100 * np.mean(r["fidelity"]) for r in rows], "-", color="tab:purple", label="student (mean)")
    twins = [(x, 100 * r["twin_agreement"]) for r, x in zip(rows, ta) if r.get("twin_agreement") is not None]
    if twins:
        a2.plot(*zip(*twins), "x", color="black", ms=7, label="the teacher's twin (another seed)")
    a1.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="teacher test accuracy (%)", ylabel="student test accuracy (%)",
           title="students track their teachers")
    a2.set(xlim=(lo, hi), ylim=(0, 100), xlabel="teacher test accuracy (%)", ylabel="fidelity (%)",
           title="agreement with its own teacher")
    a1.legend(fontsize=8, loc="upper left")
    a2.legend(fontsize=8, loc="lower left")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig

# ======================================================================== end of notebooks 04 and 04b
