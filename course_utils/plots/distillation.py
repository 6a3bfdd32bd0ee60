"""Notebook 03's figure: every student's accuracy beside its teacher's, and the paired comparisons with intervals."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..stats import excludes_zero


def plot_students(accuracy: dict, teacher_acc: float, summaries: dict, title: str):
    """Left: test accuracy (%) of each student kind, one grey line per seed joining that seed's students, the mean
    as a bar, the teacher as a dashed line. Right: each comparison's mean paired difference (points) with its 95%
    interval and the seeds as dots; the first comparison (the primary) is dark, a comparison whose interval includes
    zero is hatched. `accuracy`: {kind: [share per seed]}; `summaries`: {"a - b": stats.paired_summary}."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13.5, 4.4), gridspec_kw={"width_ratios": [1, 1.25]})
    kinds = list(accuracy)
    per_seed = 100 * np.array([accuracy[k] for k in kinds])  # (kinds, seeds)
    left.bar(range(len(kinds)), per_seed.mean(1), color="tab:blue", alpha=0.35, width=0.6, label="mean over seeds")
    left.plot(range(len(kinds)), per_seed, color="grey", lw=0.8, alpha=0.7)
    left.plot([], [], color="grey", lw=0.8, label="one seed's students")
    left.axhline(100 * teacher_acc, color="black", ls="--", lw=1.2, label=f"teacher ({100 * teacher_acc:.1f}%)")
    left.set_xticks(range(len(kinds)), [k.replace(" ", "\n") for k in kinds])
    left.set(ylabel="test accuracy (%)", ylim=(0, 100), title="accuracy")
    left.legend(fontsize=8, loc="center right", bbox_to_anchor=(1.0, 0.68))  # between students and teacher
    left.grid(axis="y", alpha=0.3)

    names = list(summaries)
    for i, name in enumerate(names):
        g = summaries[name]
        mean, lo, hi = 100 * g["mean"], 100 * g["lo"], 100 * g["hi"]
        colour = "tab:blue" if i == 0 else "tab:orange"
        real = excludes_zero(g)
        right.bar(i, mean, color=colour if real else "none", edgecolor=colour, hatch=None if real else "//",
                  alpha=0.8, width=0.6)
        right.errorbar(i, mean, yerr=[[mean - lo], [hi - mean]], color="black", capsize=6)
        diffs = 100 * np.array(g["diffs"])
        right.plot(np.full(len(diffs), i + 0.2), diffs, "k.", alpha=0.5)
    right.axhline(0, color="black", lw=0.8)
    right.set_xticks(range(len(names)), [n.replace(" - ", "\nminus\n") for n in names], fontsize=8)
    right.set(ylabel="paired difference (accuracy points)", title="paired by seed, 95% t-interval")
    right.grid(axis="y", alpha=0.3)
    right.legend(handles=[Line2D([], [], color="tab:blue", lw=8, alpha=0.8, label="primary comparison"),
                          Line2D([], [], color="tab:orange", lw=8, alpha=0.8, label="control (exploratory)"),
                          Patch(facecolor="none", edgecolor="grey", hatch="//", label="interval includes 0"),
                          Line2D([], [], color="black", marker="_", markersize=10, label="95% interval"),
                          Line2D([], [], color="black", marker=".", ls="", alpha=0.5, label="one seed")],
                 fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: it hides no seed
    fig.suptitle(title)
    fig.tight_layout()
    return fig
