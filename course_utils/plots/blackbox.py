"""Notebooks 04 and 04b: black-box distillation figures (copies against queries, paired arms, grouped bars,
the teacher cap). Values are shares in [0, 1], drawn in %; every axis runs from 0 to 100 so the teacher fits."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def _pct(values) -> np.ndarray:
    return 100 * np.asarray(values, dtype=float)


def plot_copies(points: dict, teacher_acc: float, floor: str | None = None, title: str = ""):
    """Accuracy and fidelity of copies against what they bought, one x position per key of `points`
    ({label: {"acc": [per seed], "fid": [per seed]}}, in order). Each seed is a thin grey line (paired
    across points), the mean a dot; the teacher is a dashed line inside the axes; the fidelity of `floor`
    (a key: the student that never queried) is drawn as the floor."""
    labels = list(points)
    xs = np.arange(len(labels))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, name in ((axes[0], "acc", "test accuracy (%)"), (axes[1], "fid", "fidelity: agreement with the teacher (%)")):
        seeds = np.stack([_pct(points[k][key]) for k in labels])  # (points, seeds)
        ax.plot(xs, seeds, color="grey", lw=0.7, alpha=0.6)
        ax.plot(xs, seeds.mean(1), "o-", color="tab:red", ms=7, label="copier (mean)")
        for x, m in zip(xs, seeds.mean(1)):
            ax.annotate(f"{m:.1f}", (x, m), textcoords="offset points", xytext=(8, -12), fontsize=8)
        ax.plot([], [], color="grey", lw=0.7, label="one seed")
        if key == "acc":
            ax.axhline(100 * teacher_acc, color="black", ls="--", lw=1, label=f"teacher ({100 * teacher_acc:.1f}%)")
        elif floor is not None:
            ax.axhline(np.mean(_pct(points[floor]["fid"])), color="tab:green", ls=":", lw=1.5,
                       label="floor: never queried")
        ax.axhline(10, color="grey", ls=":", lw=0.8, label="chance")
        ax.set_xticks(xs, labels)
        ax.set(ylim=(0, 100), ylabel=name, xlabel="label answers bought (and their price)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, 0.86))  # under the teacher's line
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_paired(values: dict, ylabel: str, title: str, references: tuple = (), chance: float | None = None,
                xlabel: str | None = None):
    """Arms side by side, seeds paired: {arm: [value per seed, same seed order]} in [0, 1]. Bars are the means
    (printed above the seeds), each seed a grey line across the arms. references: (value, label) pairs, drawn as
    levels (the first dashed black, the next dotted in colour)."""
    arms = list(values)
    xs = np.arange(len(arms))
    seeds = np.stack([_pct(values[a]) for a in arms])  # (arms, seeds)
    fig, ax = plt.subplots(figsize=(1.6 * len(arms) + 2.8, 3.8))
    ax.bar(xs, seeds.mean(1), 0.6, color="tab:blue", alpha=0.35, label="mean")
    ax.plot(xs, seeds, "o-", color="grey", lw=0.8, ms=3, alpha=0.7)
    ax.plot([], [], "o-", color="grey", lw=0.8, ms=3, label="one seed")
    for x, m, top in zip(xs, seeds.mean(1), seeds.max(1)):
        ax.text(x, top + 2, f"{m:.1f}", ha="center", fontsize=8)
    for (value, label), style in zip(references, (("black", "--"), ("tab:green", ":"), ("tab:orange", ":"))):
        ax.axhline(100 * value, color=style[0], ls=style[1], lw=1.2, label=label)
    if chance is not None:
        ax.axhline(100 * chance, color="grey", ls=":", lw=0.8, label="chance")
    ax.set_xticks(xs, arms)
    ax.set(ylabel=ylabel, title=title, ylim=(0, 100), xlabel=xlabel or "")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 0.86))
    fig.tight_layout()
    return fig


def plot_grouped(values: dict, ylabel: str, title: str, reference: float | None = None,
                 reference_label: str = "teacher", chance: float | None = None, xlabel: str | None = None):
    """Bars of seed means with the seeds as dots: {group: {arm: [value per seed]}}, values in [0, 1].

    chance: a level to draw as "chance" (e.g. 0.1 for ten classes)."""
    groups = list(values)
    arms = list(dict.fromkeys(a for g in groups for a in values[g]))
    width = 0.8 / len(arms)
    fig, ax = plt.subplots(figsize=(1.9 * len(groups) + 2.5, 3.8))
    for j, arm in enumerate(arms):
        xs = np.arange(len(groups)) + (j - (len(arms) - 1) / 2) * width
        means = [np.mean(_pct(values[g][arm])) if arm in values[g] else np.nan for g in groups]
        ax.bar(xs, means, width * 0.9, label=arm, alpha=0.8)
        for x, g in zip(xs, groups):
            if arm in values[g]:
                ax.plot([x] * len(values[g][arm]), _pct(values[g][arm]), "k.", alpha=0.6)
        for x, m, g in zip(xs, means, groups):
            if not np.isnan(m):
                ax.text(x, max(m, *_pct(values[g][arm])) + 2.5, f"{m:.0f}", ha="center", fontsize=7)
    if reference is not None:
        ax.axhline(100 * reference, color="black", ls="--", lw=0.8, label=reference_label)
    if chance is not None:
        ax.axhline(100 * chance, color="grey", ls=":", lw=1.0, label="chance")
    ax.set_xticks(range(len(groups)), groups)
    ax.set(ylabel=ylabel, title=title, ylim=(0, 100), xlabel=xlabel or "")
    ax.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 0.86))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_teacher_cap(rows: list):
    """Copies against their teacher's accuracy: accuracy (left, with the line copy = teacher) and fidelity
    (right). rows: [{"teacher", "teacher_acc", "copy_acc", "copy_fid", "floor_acc", "floor_fid": [per seed],
    "twin_agreement": a share or None}]. The floor (the copier's own student, which never queried any teacher)
    is drawn green: its accuracy as a level, its agreement with each teacher as a diamond; a twin as a cross."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ta = np.array([100 * r["teacher_acc"] for r in rows])
    a1.plot([0, 100], [0, 100], "k--", lw=0.8, label="copy = teacher")
    for r, x in zip(rows, ta):
        for ax, key, where in ((a1, "copy_acc", (6, -14)), (a2, "copy_fid", (-6, 8))):  # clear of the lines and twins
            s = _pct(r[key])
            ax.plot([x] * len(s), s, "o", color="tab:red", alpha=0.45, ms=4)
            dx = -6 if x > 70 else where[0]
            ax.annotate(r["teacher"], (x, s.mean()), textcoords="offset points", xytext=(dx, where[1]), fontsize=8,
                        ha="right" if dx < 0 else "left")
    order = np.argsort(ta)
    a1.plot(ta[order], [np.mean(_pct(rows[i]["copy_acc"])) for i in order], "-", color="tab:red", label="copy (mean)")
    a2.plot(ta[order], [np.mean(_pct(rows[i]["copy_fid"])) for i in order], "-", color="tab:red", label="copy (mean)")
    a1.axhline(np.mean(_pct(rows[0]["floor_acc"])), color="tab:green", ls=":", lw=1.5,
               label="floor: the copier's own student")
    a2.plot(ta[order], [np.mean(_pct(rows[i]["floor_fid"])) for i in order], "D:", color="tab:green", ms=6,
            label="floor: own student (never queried)")
    twins = [(x, 100 * r["twin_agreement"]) for r, x in zip(rows, ta) if r.get("twin_agreement") is not None]
    if twins:
        a2.plot(*zip(*twins), "x", color="black", ms=8, ls="none", label="the teacher's twin (another seed)")
    a1.set(xlim=(0, 100), ylim=(0, 100), xlabel="teacher test accuracy (%)", ylabel="copy test accuracy (%)",
           title="copies track their teachers")
    a2.set(xlim=(0, 100), ylim=(0, 100), xlabel="teacher test accuracy (%)",
           ylabel="fidelity: agreement with its teacher (%)", title="agreement with its own teacher")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig

# ======================================================================== end of notebooks 04 and 04b
