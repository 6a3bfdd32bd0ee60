"""Figures shared by the notebooks: image grids, training curves, confusion matrices, galleries, heatmaps, paired bars."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import MaxNLocator

from ..data import CLASSES
from ..stats import excludes_zero


def as_hwc(t: torch.Tensor) -> np.ndarray:
    """uint8 (3, H, W) -> (H, W, 3) for imshow."""
    return t.detach().cpu().permute(1, 2, 0).numpy()


def image_grid(images: torch.Tensor, labels=None, classes=CLASSES, ncols: int = 10, title: str | None = None,
               size: float = 1.2):
    """uint8 images (N, 3, 32, 32) in a grid, each captioned with its class name when labels are given."""
    n = len(images)
    nrows = -(-n // ncols)
    row = size + (0.25 if labels is not None else 0)  # room for each row's captions
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, row * nrows + (0.4 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(as_hwc(images[i]))
            if labels is not None:
                ax.set_title(classes[int(labels[i])], fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(histories: dict, title: str = "training"):
    """Loss and accuracy per epoch for one or more runs: {name: train.History}."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, h in histories.items():
        a1.plot(h.epoch, h.train_loss, marker="o", ms=3, label=name)
        a2.plot(h.epoch, [100 * v for v in h.train_acc], ls="--", marker="s", ms=3, alpha=0.6, label=f"{name} (train)")
        if h.test_acc:
            a2.plot(h.epoch, [100 * v for v in h.test_acc], marker="o", ms=3, label=f"{name} (test)")
    a1.set(xlabel="epoch", ylabel="training loss", title=f"{title}: loss")
    a2.set(xlabel="epoch", ylabel="accuracy (%)", title=f"{title}: accuracy")
    for ax in (a1, a2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    a2.legend(fontsize=8)
    a1.grid(alpha=0.3)
    a2.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_confusion(cm: torch.Tensor, classes=CLASSES, title: str = "confusion matrix (row-normalised, %)"):
    """The confusion matrix, rows normalised to percentages of each true class.

    The colours show the mistakes only (off the diagonal, on their own scale, so the largest confusions
    stand out); the diagonal, what the model gets right, is printed in bold on white.
    """
    pct = 100 * cm.double() / cm.sum(1, keepdim=True).clamp_min(1)
    off = pct.clone().fill_diagonal_(float("nan")).numpy()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(off, cmap="Reds", vmin=0, vmax=max(float(np.nanmax(off)), 1e-9))
    for i in range(len(classes)):
        for j in range(len(classes)):
            v = pct[i, j].item()
            if i == j:
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7, fontweight="bold")
            elif cm[i, j] > 0:
                ax.text(j, i, f"{v:.0f}" if v >= 1 else f"{v:.1f}", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.6 * np.nanmax(off) else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(im, ax=ax, fraction=0.046, label="% of the true class (mistakes only)")
    fig.tight_layout()
    return fig


def topk_gallery(images: torch.Tensor, probs: torch.Tensor, labels: torch.Tensor, k: int = 3, classes=CLASSES,
                 ncols: int = 4):
    """Each image beside a bar chart of its k most probable classes; the true class in green."""
    n = len(images)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=(3.2 * ncols, 1.5 * nrows),
                             gridspec_kw={"width_ratios": [1, 1.4] * ncols}, squeeze=False)
    for i in range(nrows * ncols):
        ax_img, ax_bar = axes[i // ncols, 2 * (i % ncols)], axes[i // ncols, 2 * (i % ncols) + 1]
        ax_img.axis("off")
        if i >= n:
            ax_bar.axis("off")
            continue
        ax_img.imshow(as_hwc(images[i]))
        p, c = probs[i].cpu().topk(k)
        colors = ["tab:green" if int(ci) == int(labels[i]) else "tab:gray" for ci in c]
        ax_bar.barh(range(k)[::-1], p.numpy(), color=colors)
        for y, v in zip(range(k)[::-1], p.tolist()):
            ax_bar.text(min(v, 0.7) + 0.02, y, f"{v:.3f}", va="center", fontsize=6)
        ax_bar.set_yticks(range(k)[::-1], [classes[int(ci)] for ci in c], fontsize=7)
        ax_bar.set_xlim(0, 1)
        ax_bar.tick_params(axis="x", labelsize=6)
        ax_bar.set_title(f"true: {classes[int(labels[i])]}", fontsize=7)
    fig.tight_layout()
    return fig


def heatmap(values, row_labels, col_labels, xlabel: str, ylabel: str, title: str, fmt: str = "{:.1f}",
            cmap: str = "viridis", center: float | None = None, cbar_label: str = "", mark: tuple | None = None):
    """A labelled heatmap of a 2-D array (e.g. accuracy over alpha x T).

    center: a value (e.g. 0 for gains) at the middle of a diverging colour map, so its sign reads at a glance.
    mark: (row, column) of a cell to outline, e.g. the setting fixed in advance.
    """
    v = np.asarray(values, dtype=float)
    fig, ax = plt.subplots(figsize=(1.2 * len(col_labels) + 2.4, 0.7 * len(row_labels) + 1.5))
    norm = None
    if center is not None:
        span = max(np.nanmax(np.abs(v - center)), 1e-9)
        norm = TwoSlopeNorm(vcenter=center, vmin=center - span, vmax=center + span)
    im = ax.imshow(v, cmap=cmap, aspect="auto", norm=norm)
    for i in range(v.shape[0]):
        for j in range(v.shape[1]):
            ax.text(j, i, fmt.format(v[i, j]), ha="center", va="center", fontsize=9, color="black")
    if mark is not None:
        ax.add_patch(Rectangle((mark[1] - 0.5, mark[0] - 0.5), 1, 1, fill=False, edgecolor="black", lw=2.5))
    ax.set_xticks(range(len(col_labels)), col_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    fig.colorbar(im, ax=ax, fraction=0.046, label=cbar_label)
    fig.tight_layout()
    return fig


def paired_bars(summary: dict, title: str, ylabel: str = "accuracy gain over hard labels (points)"):
    """Bars of mean paired differences with 95% intervals: {name: stats.paired_summary(...)}.

    A bar whose interval excludes zero is filled (dark for a gain, red for a loss); one whose interval
    includes zero, or that has a single seed (no interval), is drawn hollow and hatched: not told from noise.
    """
    names = list(summary)
    means = np.array([100 * summary[n]["mean"] for n in names])
    lo = np.array([100 * summary[n]["lo"] for n in names])
    hi = np.array([100 * summary[n]["hi"] for n in names])
    fig, ax = plt.subplots(figsize=(1.7 * len(names) + 2.6, 3.6))
    for i, n in enumerate(names):
        real = excludes_zero(summary[n])
        colour = "tab:blue" if means[i] > 0 else "tab:red"
        ax.bar(i, means[i], color=colour if real else "none", edgecolor=colour, hatch=None if real else "//",
               alpha=0.8, width=0.6)
        if not np.isnan(lo[i]):
            ax.errorbar(i, means[i], yerr=[[means[i] - lo[i]], [hi[i] - means[i]]], color="black", capsize=6)
        diffs = 100 * np.array(summary[n]["diffs"])
        ax.plot(i + 0.18 + np.zeros_like(diffs), diffs, "k.", alpha=0.6)
    ax.set_xticks(range(len(names)), names)
    ax.axhline(0, color="black", lw=0.8)
    ax.set(ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=[Patch(facecolor="tab:blue", alpha=0.8, label="mean gain, interval excludes 0"),
                       Patch(facecolor="tab:red", alpha=0.8, label="mean loss, interval excludes 0"),
                       Patch(facecolor="none", edgecolor="grey", hatch="//", label="mean, interval includes 0"),
                       Line2D([], [], color="black", marker="_", markersize=10, label="95% t-interval"),
                       Line2D([], [], color="black", marker=".", ls="", alpha=0.6, label="one seed")],
              fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig
