"""Figures of notebook 05: each probe's score per suspect, and the ROC curves of the probes."""
from __future__ import annotations

import matplotlib.pyplot as plt

COLOURS = {"copy": "tab:red", "independent": "tab:blue", "reference": "0.55"}


def plot_probe_scores(scores: dict, kinds: dict, thresholds: dict, titles: dict, hollow=()):
    """One panel per probe: each suspect's score (a dot, coloured by what it really is) and the lab's
    threshold (dashed). scores: {probe: {suspect: value}}; kinds: {suspect: "copy" | "independent" | "reference"};
    suspects named in `hollow` (the white-box copies) are drawn as rings."""
    fig, axes = plt.subplots(1, len(scores), figsize=(4.2 * len(scores), 3.6), squeeze=False)
    for ax, (probe, per_suspect) in zip(axes[0], scores.items()):
        ringed = False
        for x, kind in enumerate(COLOURS):  # one column per kind, the suspects spread a little inside it
            names = [n for n in per_suspect if kinds[n] == kind]
            for j, n in enumerate(names):
                ring = n in hollow
                ax.scatter(x + 0.25 * (j - (len(names) - 1) / 2) / max(len(names), 1), per_suspect[n], s=40, zorder=3,
                           facecolors="none" if ring else COLOURS[kind], edgecolors=COLOURS[kind], linewidths=1.5,
                           label="white-box copy" if ring and not ringed else None)
                ringed = ringed or ring
        ax.axhline(thresholds[probe], color="k", ls="--", lw=1, label="threshold (lab's references)")
        ax.set_xticks(range(len(COLOURS)), ["copies", "independent", "lab's own"])
        ax.set_title(titles[probe], fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][-1].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_roc(curves: dict):
    """ROC curves, one per probe: curves {probe label: (false positive rates, true positive rates, auc)}."""
    fig, ax = plt.subplots(figsize=(4.6, 5.4))
    for label, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, lw=2, marker="o", ms=3, label=f"{label} (AUC {auc:.2f})")
    ax.plot([0, 1], [0, 1], color="0.6", ls=":", label="a score that knows nothing")
    ax.set_xlabel("independent models flagged (false positive rate)")
    ax.set_ylabel("copies flagged (true positive rate)")
    ax.set_xlim(-0.02, 1.02), ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16))  # below the axes: no curve hidden
    fig.tight_layout()
    return fig
