"""Notebook 06: a tiny language model's students (distance to the truth, the budget sweep)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

COLOURS = {"teacher": "black", "no_teacher": "tab:purple", "token_level": "tab:blue", "written_only": "tab:cyan",
           "top_k": "tab:green", "sequence_level": "tab:orange"}  # one colour per model, in every figure of notebook 06


def _label(name: str) -> str:
    return name.replace("_", " ")


def plot_kl(kl: dict, teacher_kl: float, title: str = ""):
    """Each student's KL to the true next-word distribution (nats per word, lower is better): {student: [per seed]}.
    Bars are seed means, dots the seeds; the dashed line is the teacher."""
    names = list(kl)
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2.0, 3.6))
    for i, name in enumerate(names):
        values = np.asarray(kl[name], dtype=float)
        ax.bar(i, values.mean(), 0.6, alpha=0.8, color=COLOURS.get(name, "grey"))
        ax.plot([i + 0.18] * len(values), values, "k.", alpha=0.6)
        ax.text(i, values.mean() * 1.02, f"{values.mean():.3f}", ha="center", va="bottom", fontsize=8)
    ax.axhline(teacher_kl, color="black", ls="--", lw=0.8, label=f"teacher ({teacher_kl:.3f})")
    ax.set_xticks(range(len(names)), [_label(n) for n in names])
    ax.set(ylabel="KL to the truth (nats per word)", title=title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_budget_sweep(budgets, kl: dict, reference: tuple | dict | None = None, title: str = ""):
    """KL to the truth against the words bought: {student: array (budgets, seeds)}; lines are seed means,
    bands span the seeds (min to max). reference: (label, value) or {label: value}, each a dashed level in its
    student's colour (labels as in kl's keys, e.g. "written_only")."""
    budgets = np.asarray(budgets, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for name, values in kl.items():
        v = np.asarray(values, dtype=float)
        colour = COLOURS.get(name, "grey")
        ax.plot(budgets, v.mean(1), "-o", ms=4, color=colour, label=_label(name))
        ax.fill_between(budgets, v.min(1), v.max(1), color=colour, alpha=0.15)
    references = dict([reference]) if isinstance(reference, tuple) else dict(reference or {})
    for label, value in references.items():
        ax.axhline(value, color=COLOURS.get(label.replace(" ", "_"), "black"), ls="--", lw=1.2,
                   label=f"{_label(label)} (first budget)")
    shown = [np.asarray(v, dtype=float) for v in kl.values()] + [np.asarray(list(references.values()), dtype=float)]
    low, high = min(v.min() for v in shown if v.size), max(v.max() for v in shown if v.size)
    ax.set_ylim(low - 0.08 * (high - low), high + 0.08 * (high - low))  # every level clear of the frame
    ax.set_xscale("log")
    ax.set_xticks(budgets, [f"{int(b):,d}" for b in budgets])
    ax.minorticks_off()
    ax.set(xlabel="words bought from the API (log scale)", ylabel="KL to the truth (nats per word)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_behaviour(values: dict, title: str = ""):
    """What each model does when asked, in % of answers: {probe: {model: [value per seed]}} in [0, 1]; a model
    missing from a probe (or with no value) gets no bar there. Bars are seed means, dots the seeds; the legend
    sits outside, clear of the bars."""
    probes = list(values)
    names = list(dict.fromkeys(n for p in probes for n in values[p]))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(2.2 * len(probes) + 3.0, 3.8))
    for j, name in enumerate(names):
        shown = [(i, [v for v in values[p].get(name, []) if v is not None]) for i, p in enumerate(probes)]
        shown = [(i + (j - (len(names) - 1) / 2) * width, 100 * np.asarray(v, dtype=float)) for i, v in shown if v]
        xs, means = [x for x, _ in shown], [v.mean() for _, v in shown]
        ax.bar(xs, means, width * 0.9, color=COLOURS.get(name, "grey"), alpha=0.8, label=_label(name))
        for x, (_, v), m in zip(xs, shown, means):
            ax.plot([x] * len(v), v, "k.", alpha=0.5, ms=3)
            ax.text(x, m + 2, f"{m:.0f}", ha="center", fontsize=7)
    ax.set_xticks(range(len(probes)), probes)
    ax.set(ylabel="% of answers", ylim=(0, 110), title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
