"""Notebook 06: a tiny language model's students (distance to the truth, the budget sweep)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_kl(kl: dict, teacher_kl: float, title: str = ""):
    """Each student's KL to the true next-word distribution (nats per word, lower is better): {student: [per seed]}.
    Bars are seed means, dots the seeds; the dashed line is the teacher."""
    names = list(kl)
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2.0, 3.6))
    for i, name in enumerate(names):
        values = np.asarray(kl[name], dtype=float)
        ax.bar(i, values.mean(), 0.6, alpha=0.8, color="tab:purple" if name == "no_teacher" else "tab:blue")
        ax.plot([i + 0.18] * len(values), values, "k.", alpha=0.6)
        ax.text(i, values.mean() * 1.02, f"{values.mean():.3f}", ha="center", va="bottom", fontsize=8)
    ax.axhline(teacher_kl, color="black", ls="--", lw=0.8, label=f"teacher ({teacher_kl:.3f})")
    ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names])
    ax.set(ylabel="KL to the truth (nats per word)", title=title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_budget_sweep(budgets, kl: dict, title: str = ""):
    """KL to the truth against the words bought: {student: array (budgets, seeds)}; lines are seed means,
    bands span the seeds (min to max)."""
    budgets = np.asarray(budgets, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    colours = {"token_level": "tab:blue", "top_k": "tab:green", "sequence_level": "tab:orange",
               "no_teacher": "tab:purple"}
    for name, values in kl.items():
        v = np.asarray(values, dtype=float)
        colour = colours.get(name, "black")
        ax.plot(budgets, v.mean(1), "-o", ms=4, color=colour, label=name.replace("_", " "))
        ax.fill_between(budgets, v.min(1), v.max(1), color=colour, alpha=0.15)
    ax.set_xscale("log")
    ax.set_xticks(budgets, [f"{int(b):,d}" for b in budgets])
    ax.minorticks_off()
    ax.set(xlabel="words bought from the API (log scale)", ylabel="KL to the truth (nats per word)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
