"""Notebook 07: exposure bias by position, the students measured against the truth, the paired primary, and the
one-bump student fitted both ways."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..stats import excludes_zero

COLOURS = {"teacher": "black", "off_policy": "tab:blue", "on_policy": "tab:red", "mixed": "tab:purple",
           "reverse_kl": "tab:orange", "world": "tab:green"}  # one colour per model in every figure of notebook 07


def _label(name: str) -> str:
    return name.replace("_", " ").replace("kl", "KL")


def plot_exposure(exposure, min_words: int = 30):
    """Left: the share of dialogues still in the world after each word, the student's own and the teacher's own.
    Right: KL per word by position: to the truth on the world's text and on the student's own (up to its first
    impossible word), and to the teacher after that word (log scale). Positions with fewer than `min_words` words
    are not drawn."""
    e = exposure
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    x = np.arange(1, len(e.on_track) + 1)
    a1.plot(x, 100 * np.asarray(e.teacher_on_track), color=COLOURS["teacher"], label="the teacher's own text")
    a1.plot(x, 100 * np.asarray(e.on_track), color=COLOURS["off_policy"], label="the student's own text")
    a1.set(xlabel="words written", ylabel="% of dialogues still in the world", ylim=(0, 102),
           title="where its own text leaves the world")
    a1.legend(fontsize=8, loc="lower left")
    series = (("world", "to the truth, on the world's text", e.kl_world_by_position, e.world_words_by_position, "-"),
              ("off_policy", "to the truth, on its own text", e.kl_own_by_position, e.own_words_by_position, "-"),
              ("teacher", "to the teacher, after its first slip", e.kl_after_by_position, e.after_words_by_position, ":"))
    for key, label, values, counts, ls in series:
        v = np.where(np.asarray(counts) >= min_words, np.asarray(values, dtype=float), np.nan)
        a2.plot(np.arange(len(v)), v, ls, color=COLOURS[key], marker=".", ms=4, label=label)
    a2.set_yscale("log")
    a2.set(xlabel="position (words before the predicted one)", ylabel="KL per word (nats, log scale)",
           title="the student's distance, word by word")
    a2.legend(fontsize=8, loc="lower left")  # the after-slip spike peaks upper right
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


METRICS = {"kl_own": "KL to the truth, own text\n(nats/word, up to the first slip)",
           "kl_world": "KL to the truth, world's text\n(nats/word)",
           "derail_rate": "own dialogues that leave\nthe world (%)",
           "kl_after_slip": "KL to the teacher, after\nthe first slip (nats/word)"}


def plot_policy_students(per_student: dict, metrics=tuple(METRICS), title: str = ""):
    """One panel per measure: bars are seed means, dots the seeds. per_student: {student: {metric: [per seed]}}."""
    names = list(per_student)
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.3 * len(metrics), 3.6))
    for ax, metric in zip(np.atleast_1d(axes), metrics):
        scale = 100.0 if metric == "derail_rate" else 1.0
        for i, name in enumerate(names):
            v = scale * np.asarray(per_student[name][metric], dtype=float)
            ax.bar(i, np.nanmean(v), 0.65, color=COLOURS.get(name, "grey"), alpha=0.8)
            ax.plot([i + 0.2] * len(v), v, "k.", alpha=0.6, ms=4)
        ax.set_xticks(range(len(names)), [_label(n) for n in names], rotation=30, ha="right")
        ax.set(ylabel=METRICS.get(metric, metric), xlabel="student")
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_policy_paired(summaries: dict, primary: str, ylabel: str, title: str = "", scale: float = 1.0):
    """Each student minus the off-policy one, seed by seed: the mean (bar), its 95% t-interval (whisker) and the
    seeds (dots), times `scale` (100: shares as percentage points); the declared primary comparison outlined. A bar
    whose interval includes zero is hatched. summaries: {student: stats.paired_summary}."""
    names = list(summaries)
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 3.4, 3.6))
    for i, name in enumerate(names):
        s = summaries[name]
        real = excludes_zero(s)
        colour = COLOURS.get(name, "grey")
        mean, lo, hi = (scale * s[k] for k in ("mean", "lo", "hi"))
        ax.bar(i, mean, 0.6, color=colour if real else "none", edgecolor=colour, alpha=0.8,
               hatch=None if real else "//", lw=2.5 if name == primary else 1.0)
        if not np.isnan(lo):
            ax.errorbar(i, mean, yerr=[[mean - lo], [hi - mean]], color="black", capsize=6)
        ax.plot([i + 0.2] * len(s["diffs"]), scale * np.asarray(s["diffs"]), "k.", alpha=0.6)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(names)), [_label(n) + (" (primary)" if n == primary else "") for n in names])
    ax.set(xlabel="student (each minus the off-policy student of its seed)", ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=[Patch(facecolor="grey", alpha=0.8, label="interval excludes 0"),
                       Patch(facecolor="none", edgecolor="grey", hatch="//", label="interval includes 0"),
                       Line2D([], [], color="black", marker="_", markersize=10, label="95% t-interval"),
                       Line2D([], [], color="black", marker=".", ls="", alpha=0.6, label="one seed")],
              fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def plot_bump(words, teacher_probs, fits: dict, title: str = ""):
    """A two-peaked teacher (bars) and one-bump students fitted to it: {label: [probabilities per seed]}."""
    x = np.arange(len(words))
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.bar(x, teacher_probs, 0.7, color="lightgrey", edgecolor="grey", label="teacher")
    styles = iter(("-", "--", ":"))
    for (label, per_seed), colour in zip(fits.items(), ("tab:red", "tab:orange", "tab:blue")):
        ls = next(styles, "-")
        for k, q in enumerate(per_seed):
            ax.plot(x, q, ls, color=colour, marker="o", ms=3, alpha=0.8, label=label if k == 0 else None)
    ax.set_xticks(x, words)
    ax.set(xlabel="next word", ylabel="probability", title=title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
