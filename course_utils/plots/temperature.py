"""Notebook 01's figures: soft labels, temperature, why T^2, a real teacher's soft labels (the maths is in
course_utils.temperature; course_utils.widgets wraps these figures)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..data import CLASSES
from ..losses import entropy
from ..temperature import ANIMALS, DOG_PHOTO_PROBS, as_logits, logits_from_probs, soft_labels, temperature_summary
from .common import as_hwc


def plot_hard_vs_soft(probs=DOG_PHOTO_PROBS, classes=ANIMALS, label: int = 0, T_soft: float = 4.0):
    """Three bar charts for one image: the hard label (one-hot), the teacher's soft label, and it softened at T."""
    z = logits_from_probs(probs)
    hard = torch.zeros(len(classes), dtype=torch.float64)
    hard[label] = 1
    panels = [(hard, "hard label (the data set)", "tab:gray"),
              (soft_labels(z, [1.0])[0], "soft label: the teacher, T = 1", "tab:blue"),
              (soft_labels(z, [T_soft])[0], f"the same logits at T = {T_soft:g}", "tab:orange")]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), sharey=True)
    for ax, (p, title, color) in zip(axes, panels):
        ax.bar(classes, p.numpy(), color=color)
        for i, v in enumerate(p.tolist()):
            ax.text(i, v + 0.02, f"{v:.3f}", ha="center", fontsize=8)
        ax.set_title(title, fontsize=10)
        if color == "tab:blue" and len(classes) > 3:
            ax.text(0.97, 0.6, f"{classes[1]} : {classes[3]} = {p[1] / p[3]:.0f} : 1\nthe dark knowledge is in\nthe small numbers",
                    transform=ax.transAxes, ha="right", fontsize=9, color="tab:blue")
        ax.set_ylim(0, 1.12)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("probability")
    fig.tight_layout()
    return fig


def _T_grid(lo: float = 0.1, hi: float = 20.0, n: int = 200) -> np.ndarray:
    return np.geomspace(lo, hi, n)


def _plain_log_x(ax, lo: float, hi: float) -> None:
    """A log-scaled T axis labelled with plain numbers (0.1, 0.2, 0.5, 1, 2, 5, ...)."""
    ticks = [m * 10.0 ** e for e in range(-2, 4) for m in (1, 2, 5) if lo * 0.999 <= m * 10.0 ** e <= hi * 1.001]
    ax.set_xscale("log")
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()


def plot_temperature(logits, T: float, classes=ANIMALS, reference_T: float = 1.0, T_range=(0.1, 20.0)):
    """The temperature explorer's figure: bars of softmax(z / T) (outlines: at reference_T), and the entropy
    and the ratio p(2nd) / p(3rd) as functions of T, with the current T marked."""
    z = as_logits(logits)
    n = len(z)
    if len(classes) != n:
        raise ValueError(f"got {n} logits but {len(classes)} class names: give one name per logit.")
    s = temperature_summary(z, T)
    grid = _T_grid(*T_range)
    curves = [temperature_summary(z, t) for t in grid]

    fig = plt.figure(figsize=(11, 4.2))
    gs = fig.add_gridspec(2, 2, width_ratios=[1.5, 1], hspace=0.12, wspace=0.25)
    ax = fig.add_subplot(gs[:, 0])
    ax.bar(range(n), s["probs"], color="tab:blue", label=f"T = {T:.2f}")
    ax.bar(range(n), soft_labels(z, [reference_T])[0].numpy(), facecolor="none", edgecolor="black", lw=1.2,
           ls="--", label=f"T = {reference_T:g} (reference)")
    ax.axhline(1 / n, color="tab:red", lw=1, ls=":", label=f"uniform, 1/{n}")
    for i, v in enumerate(s["probs"]):
        ax.text(i, v + 0.015, f"{v:.3f}", ha="center", fontsize=9)
    ax.set_xticks(range(n), classes)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("probability")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"softmax(z / T) at T = {T:.2f}", fontsize=11)

    a1 = fig.add_subplot(gs[0, 1])
    a1.plot(grid, [c["entropy"] for c in curves], color="tab:purple")
    a1.axhline(s["max_entropy"], color="tab:red", lw=1, ls=":")
    a1.text(grid[0], s["max_entropy"] * 0.93, f"uniform: log {n} = {s['max_entropy']:.2f}", fontsize=8, va="top")
    a1.text(grid[-1], 0.05, "one-hot (argmax): 0", fontsize=8, ha="right", va="bottom")
    a1.plot([T], [s["entropy"]], "o", color="black")
    a1.set(ylabel="entropy (nats)", ylim=(-0.05, s["max_entropy"] * 1.1))
    a1.set_title(f"entropy {s['entropy']:.3f} nats ({s['entropy'] / s['max_entropy']:.0%} of the maximum)",
                 fontsize=10)
    a1.tick_params(labelbottom=False)
    a1.grid(alpha=0.3)

    a2 = fig.add_subplot(gs[1, 1], sharex=a1)
    ratios = np.array([c["ratio_2_3"] for c in curves])
    second, third = (classes[int(i)] for i in torch.tensor(s["probs"]).argsort(descending=True)[1:3])
    a2.plot(grid, ratios, color="tab:green")
    a2.axhline(1, color="tab:red", lw=1, ls=":")
    a2.plot([T], [s["ratio_2_3"]], "o", color="black")
    a2.set(yscale="log", xlabel="temperature T (log scale)", ylabel="2nd / 3rd")
    _plain_log_x(a2, *T_range)
    a2.set_ylim(0.8, max(2.0, np.nanmax(ratios[np.isfinite(ratios)]) * 1.5) if np.isfinite(ratios).any() else 10)
    a2.text(0.97, 0.9, f"p({second}) / p({third}) = {s['ratio_2_3']:.3g}", transform=a2.transAxes, ha="right",
            va="top", fontsize=9)
    a2.grid(alpha=0.3, which="both")
    fig.subplots_adjust(left=0.07, right=0.98, top=0.91, bottom=0.13)
    return fig


# ----------------------------------------------------------------------------- notebook 01: why T^2


def plot_gradient_norms(grads: dict, hard_norm: float | None = None):
    """Log-log plot of the soft term's gradient norm against T, without and with the T^2 factor."""
    T = grads["T"]
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.plot(T, grads["kl"], "o-", color="tab:blue", label="KL alone: falls like 1/T²")
    ax.plot(T, grads["soft"], "o-", color="tab:orange", label="T² · KL (losses.soft_loss): levels off at large T")
    ref = grads["kl"][-1] * (T[-1] / T) ** 2
    ax.plot(T, ref, ":", color="tab:blue", alpha=0.7, label="a 1/T² line, for comparison")
    if "limit" in grads:
        ax.axhline(grads["limit"], color="tab:orange", ls=":", label=f"large-T limit |s̃ − t̃| / N = {grads['limit']:.2f}")
    if hard_norm is not None:
        ax.axhline(hard_norm, color="tab:gray", ls="--", label=f"‖∇ CE(s, y)‖ (hard term): {hard_norm:.2f}")
    ax.set(yscale="log", xlabel="temperature T", ylabel="gradient norm w.r.t. student logits",
           title="why the soft term is multiplied by T²")
    ax.set_xscale("log")
    ax.set_xticks(T, [f"{v:g}" for v in T])  # ticks on the temperatures computed, not a generic 1-2-5 grid
    ax.minorticks_off()
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_high_temperature_limit(limit: dict):
    """T^2 KL and the logit-matching squared error against T; their ratio tends to 1."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(limit["T"], limit["soft"], "o-", label="T² · KL(p ‖ q)")
    a1.axhline(limit["mse"][0], color="tab:red", ls="--", label="(1/2N) Σ (s̃ᵢ − t̃ᵢ)²")
    a1.set(xlabel="temperature T", ylabel="loss", title="the soft loss approaches logit matching")
    a1.legend(fontsize=8)
    a2.plot(limit["T"], limit["ratio"], "o-", color="tab:green")
    a2.axhline(1, color="tab:red", ls="--")
    a2.set(xlabel="temperature T", ylabel="ratio", title="T² · KL  /  logit-matching value")
    for ax in (a1, a2):
        _plain_log_x(ax, limit["T"].min(), limit["T"].max())
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- notebook 01: a real teacher


def _bars_T(ax, p: torch.Tensor, classes, label: int | None, title: str, ref: torch.Tensor | None = None):
    y = np.arange(len(classes))[::-1]  # first class on top
    colors = ["tab:green" if label is not None and i == label else "tab:blue" for i in range(len(classes))]
    ax.barh(y, p.numpy(), color=colors)
    if ref is not None:
        ax.barh(y, ref.numpy(), facecolor="none", edgecolor="black", ls="--", lw=1)
    ends = p.tolist() if ref is None else torch.maximum(p, ref).tolist()  # labels clear the outlines too
    for yi, v, end in zip(y, p.tolist(), ends):
        if end > 0.75:  # long bar: the number goes inside it
            ax.text(v - 0.02, yi, f"{v:.3f}", va="center", ha="right", fontsize=7, color="white")
        else:
            ax.text(end + 0.02, yi, f"{v:.3f}", va="center", fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)


def plot_teacher_soft_labels(images: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor, Ts=(1, 4, 10),
                             classes=CLASSES):
    """One row per image: the image, then the teacher's distribution at each T (true class in green)."""
    n = len(images)
    fig, axes = plt.subplots(n, 1 + len(Ts), figsize=(2.6 + 2.8 * len(Ts), 1.9 * n), squeeze=False,
                             gridspec_kw={"width_ratios": [0.8] + [1] * len(Ts)})
    for r in range(n):
        axes[r, 0].imshow(as_hwc(images[r]))
        axes[r, 0].axis("off")
        axes[r, 0].set_title(f"true: {classes[int(labels[r])]}", fontsize=9)
        for c, T in enumerate(Ts):
            p = soft_labels(logits[r].detach().cpu(), [T])[0]
            ax = axes[r, 1 + c]
            _bars_T(ax, p, classes, int(labels[r]), f"T = {T:g}")
            ax.set_yticks(np.arange(len(classes))[::-1], classes if c == 0 else [], fontsize=7)
    fig.tight_layout()
    return fig


def plot_teacher_at_T(image: torch.Tensor, logits: torch.Tensor, label: int, T: float, classes=CLASSES,
                      reference_T: float = 1.0):
    """One image and the teacher's distribution at T (dashed outlines: at reference_T); for the picker widget."""
    z = torch.as_tensor(logits, dtype=torch.float64).detach().cpu()
    p, ref = soft_labels(z, [T])[0], soft_labels(z, [reference_T])[0]
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(8, 3.4), gridspec_kw={"width_ratios": [1, 1.8]})
    a0.imshow(as_hwc(image))
    a0.axis("off")
    a0.set_title(f"true class: {classes[label]}", fontsize=10)
    _bars_T(a1, p, classes, label, f"teacher at T = {T:.2f}   (entropy {entropy(p).item():.2f} nats; "
                                   f"dashed: T = {reference_T:g})", ref=ref)
    a1.set_yticks(np.arange(len(classes))[::-1], classes, fontsize=8)
    fig.tight_layout()
    return fig


def plot_class_similarity(sim: torch.Tensor, classes=CLASSES, T: float | None = None):
    """The off-diagonal of class_similarity as a heatmap: which classes the teacher finds alike (diagonal blank)."""
    v = 100 * sim.clone().numpy()  # percent
    np.fill_diagonal(v, np.nan)
    fig, ax = plt.subplots(figsize=(6.8, 5.6))
    im = ax.imshow(v, cmap="magma_r")
    for i in range(len(classes)):
        for j in range(len(classes)):
            if i != j and v[i, j] >= 1:
                ax.text(j, i, f"{v[i, j]:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if v[i, j] > 0.6 * np.nanmax(v) else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="class the probability goes to", ylabel="true class of the image",
           title="dark knowledge: mean soft label per class" + (f" at T = {T:g}" if T else "") + "\n(%, diagonal left out)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig
