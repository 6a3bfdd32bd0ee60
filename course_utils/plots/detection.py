"""Figures of notebook 05: each probe's score per suspect, the decision per suspect, and the ROC curves."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

STYLE = {  # group: (colour, filled, label)
    "API copy": ("tab:red", True, "copy through the API"),
    "white-box copy": ("tab:red", False, "white-box copy"),
    "independent": ("tab:blue", True, "independent model"),
    "reference": ("0.45", True, "lab's reference"),
}


def _legend_handles(extra=()):
    return [Line2D([], [], marker="o", ls="", color=c, markerfacecolor=c if filled else "none", label=label)
            for c, filled, label in STYLE.values()] + list(extra)


def _dot(ax, x, y, group):
    colour, filled, _ = STYLE[group]
    ax.scatter(x, y, s=36, zorder=3, facecolors=colour if filled else "none", edgecolors=colour, linewidths=1.5)


def plot_probe_scores(rows: list, rules: list, probes: dict):
    """One panel per probe: each suspect's share of marks repeated (a dot per suspect, one column per group) and
    the lab's threshold (dashed: above every reference). rows: detect_study.score_table(); rules:
    detect_study.threshold_rules(); probes: {key: name}, in the rules' order."""
    fig, axes = plt.subplots(1, len(probes), figsize=(4.1 * len(probes), 3.9), squeeze=False)
    for ax, (key, name), rule in zip(axes[0], probes.items(), rules):
        for x, group in enumerate(STYLE):
            values = [r[key] for r in rows if r["group"] == group]
            for j, v in enumerate(values):
                _dot(ax, x + 0.3 * (j - (len(values) - 1) / 2) / max(len(values), 1), 100 * v, group)
        ax.axhline(100 * rule.threshold, color="k", ls="--", lw=1)
        ax.set_xticks(range(len(STYLE)), ["API\ncopies", "white-box\ncopies", "independent", "lab's\nreferences"],
                      fontsize=8)
        ax.set_ylabel(f"{name} repeated (%)")
        ax.set_title(name, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    threshold = Line2D([], [], color="k", ls="--", lw=1, label="threshold: above every reference")
    fig.legend(handles=_legend_handles([threshold]), loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_decisions(decisions: list, alpha: float, gaps: dict):
    """Left: each suspect's p-value on its own (-log10 p; the dashed line is alpha, right of it = flagged).
    Right: the paired difference over seeds, API copy minus its same-images twin, with its 95% t interval.
    decisions: detect_study.decisions(); gaps: detect_study.seed_gaps()."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 0.22 * len(decisions) + 2.2),
                                 gridspec_kw={"width_ratios": (1.6, 1)})
    for y, d in enumerate(decisions):
        _dot(ax, -math.log10(max(d.p, 1e-300)), y, d.group)
    ax.axvline(-math.log10(alpha), color="k", ls="--", lw=1)
    ax.set_yticks(range(len(decisions)), [d.name for d in decisions], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("evidence against innocence: -log10 p")
    ax.set_title("one test per suspect (watermark)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(handles=_legend_handles()[:3] + [Line2D([], [], color="k", ls="--", lw=1, label=f"alpha = {alpha:g}")],
              fontsize=8, loc="lower right")
    for x, (name, s) in enumerate(gaps.items()):
        bx.errorbar(x, 100 * s["mean"], yerr=[[100 * (s["mean"] - s["lo"])], [100 * (s["hi"] - s["mean"])]],
                    fmt="s", color="tab:red", capsize=6, label="mean, 95% t interval" if x == 0 else None)
        bx.plot([x + 0.15] * len(s["diffs"]), [100 * v for v in s["diffs"]], "k.", alpha=0.6,
                label="one seed" if x == 0 else None)
    bx.axhline(0, color="k", lw=0.8)
    bx.set_xticks(range(len(gaps)), [n.replace(" (watermarked)", "").replace("the API's ", "API ") for n in gaps],
                  fontsize=8)
    bx.set_xlim(-0.5, len(gaps) - 0.5)
    bx.set_ylabel("copy minus its twin (points)")
    bx.set_title("watermark repeated, paired by seed", fontsize=10)
    bx.legend(fontsize=8, loc="lower right")
    bx.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_roc(curves: dict):
    """ROC curves, one panel per probe (none hidden under another): {probe: (false positive rates, true positive
    rates, auc)}; each panel's dotted diagonal is a score that knows nothing."""
    fig, axes = plt.subplots(1, len(curves), figsize=(3.3 * len(curves), 3.4), squeeze=False)
    for ax, (label, (fpr, tpr, auc)) in zip(axes[0], curves.items()):
        ax.plot(fpr, tpr, lw=2, marker="o", ms=3, drawstyle="default")
        ax.plot([0, 1], [0, 1], color="0.6", ls=":")
        ax.set_title(f"{label}: AUC {auc:.2f}", fontsize=10)
        ax.set_xlabel("independent models flagged (FPR)")
        ax.set_ylabel("API copies flagged (TPR)")
        ax.set_xlim(-0.03, 1.03), ax.set_ylim(-0.03, 1.03)
        ax.set_aspect("equal")
    fig.tight_layout()
    return fig
