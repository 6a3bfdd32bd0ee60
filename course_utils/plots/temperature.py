"""Notebook 01: soft labels and temperature. Pure functions behind its figures and widgets
(course_utils.widgets only wraps them), and the numbers they show."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..data import CLASSES
from ..losses import entropy, soft_loss, softmax_with_temperature
from .common import _img


ANIMALS = ("dog", "wolf", "fox", "cat", "car")  # the classes of notebook 01's toy examples
DOG_PHOTO_PROBS = (0.9, 0.08, 0.0186, 0.001, 0.0004)  # a teacher's answer for a dog photo (sums to 1)


def logits_from_probs(probs) -> torch.Tensor:
    """Mean-subtracted logits whose softmax (T = 1) is `probs`: z_i = log p_i - mean_j log p_j (float64)."""
    p = torch.as_tensor(probs, dtype=torch.float64)
    if p.ndim != 1 or (p <= 0).any() or abs(p.sum().item() - 1) > 1e-6:
        raise ValueError(f"probs must be a 1-D list of positive probabilities summing to 1, got {p.tolist()}.")
    z = p.log()
    return z - z.mean()


TEMPERATURE_PRESETS = {  # name -> logits over ANIMALS, for the temperature explorer's picker
    "a dog photo (confident teacher)": tuple(round(v, 2) for v in logits_from_probs(DOG_PHOTO_PROBS).tolist()),
    "dog or cat? (a hesitant teacher)": (2.0, -0.5, -1.0, 1.8, -3.0),
    "a car photo (very confident)": (-1.0, -2.0, -2.5, -1.5, 7.0),
    "a tie between dog and wolf": (2.0, 2.0, 0.0, -1.0, -3.0),
    "all logits equal": (0.0, 0.0, 0.0, 0.0, 0.0),
}


def _as_logits(logits) -> torch.Tensor:
    z = torch.as_tensor(logits, dtype=torch.float64)
    if z.ndim != 1 or len(z) < 2:
        raise ValueError(f"logits must be a 1-D list of at least 2 numbers (one per class), got shape {tuple(z.shape)}.")
    return z


def soft_labels(logits, Ts) -> torch.Tensor:
    """softmax(z / T) for each T in Ts: shape (len(Ts), N), float64."""
    z = _as_logits(logits)
    return torch.stack([softmax_with_temperature(z, float(T)) for T in Ts])


def temperature_summary(logits, T: float) -> dict:
    """What the explorer reports at temperature T: probabilities, entropy (nats), p(2nd)/p(3rd), argmax."""
    z = _as_logits(logits)
    p = soft_labels(z, [T])[0]  # (N,)
    ranked = p.sort(descending=True).values
    return {"T": float(T), "probs": p.tolist(), "entropy": entropy(p).item(), "max_entropy": float(np.log(len(p))),
            "ratio_2_3": (ranked[1] / ranked[2]).item() if len(p) > 2 else float("nan"),
            "argmax": int(p.argmax())}


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
    z = _as_logits(logits)
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

def temperature_gradients(student_logits, teacher_logits, Ts) -> dict:
    r"""Gradient norms w.r.t. the student logits, by autograd (float64), and the formulas they must match.

    With p = softmax(t / T), q = softmax(s / T): d KL(p || q) / d s_i = (q_i - p_i) / T, so the gradient of
    T^2 KL (= losses.soft_loss, a batch mean) is T (q - p) / B. Returns numpy arrays over Ts:
    kl (norm of grad KL), soft (norm of grad T^2 KL), max_error (largest |autograd - formula|), and the
    float limit: the norm of (s~ - t~) / (N B), which soft approaches for large T (s~, t~ mean-subtracted).
    """
    s0 = torch.as_tensor(student_logits, dtype=torch.float64)
    t = torch.as_tensor(teacher_logits, dtype=torch.float64)
    if s0.ndim == 1:
        s0, t = s0[None], t[None]
    B = len(s0)
    out = {"T": [], "kl": [], "soft": [], "max_error": []}
    for T in Ts:
        T = float(T)
        s = s0.clone().requires_grad_(True)
        (g_soft,) = torch.autograd.grad(soft_loss(s, t, T), s)  # (B, C), grad of T^2 KL, batch mean
        s = s0.clone().requires_grad_(True)
        (g_kl,) = torch.autograd.grad(soft_loss(s, t, T) / T ** 2, s)  # grad of KL alone
        q, p = softmax_with_temperature(s0, T), softmax_with_temperature(t, T)
        err = max((g_kl - (q - p) / T / B).abs().max().item(), (g_soft - T * (q - p) / B).abs().max().item())
        out["T"].append(T)
        out["kl"].append(g_kl.norm().item())
        out["soft"].append(g_soft.norm().item())
        out["max_error"].append(err)
    out = {k: np.array(v) for k, v in out.items()}
    N = s0.shape[-1]
    d = (s0 - s0.mean(-1, keepdim=True)) - (t - t.mean(-1, keepdim=True))  # (B, N) centred logit gap
    out["limit"] = d.norm().item() / (N * B)  # T (q - p) / B -> (s~ - t~) / (N B) as T grows
    return out


def hard_gradient_norm(student_logits, label: int) -> float:
    """Norm of the gradient of CE(s, y) w.r.t. the student logits: |softmax(s) - onehot(y)| (independent of T)."""
    s = torch.as_tensor(student_logits, dtype=torch.float64)
    g = torch.softmax(s, -1)
    g[label] -= 1
    return g.norm().item()


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


def high_temperature_limit(student_logits, teacher_logits, Ts) -> dict:
    r"""T^2 KL(p || q) against (1 / 2N) sum_i (s~_i - t~_i)^2 (s~, t~: mean-subtracted logits), over Ts.

    Returns numpy arrays T, soft (T^2 KL, batch mean), mse (the logit-matching value, batch mean), ratio.
    """
    s = torch.as_tensor(student_logits, dtype=torch.float64)
    t = torch.as_tensor(teacher_logits, dtype=torch.float64)
    if s.ndim == 1:
        s, t = s[None], t[None]
    N = s.shape[-1]
    d = (s - s.mean(-1, keepdim=True)) - (t - t.mean(-1, keepdim=True))  # (B, N) centred logit gap
    mse = ((d ** 2).sum(-1) / (2 * N)).mean().item()
    soft = np.array([soft_loss(s, t, float(T)).item() for T in Ts])
    return {"T": np.array([float(T) for T in Ts]), "soft": soft, "mse": np.full(len(soft), mse), "ratio": soft / mse}


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

def hesitant_examples(probs: torch.Tensor, labels: torch.Tensor, per_class: int = 1) -> torch.Tensor:
    """Per class, the correctly answered images whose runner-up class gets the most probability."""
    probs, labels = probs.cpu(), labels.cpu()
    top2 = probs.topk(2, dim=1).values[:, 1]  # (N,) the runner-up's probability
    correct = probs.argmax(1) == labels
    picks = []
    for c in range(probs.shape[1]):
        idx = torch.nonzero(correct & (labels == c)).flatten()
        picks.append(idx[top2[idx].argsort(descending=True)[:per_class]])
    return torch.cat(picks)


def typical_examples(probs: torch.Tensor, labels: torch.Tensor, top1: float = 0.9, per_class: int = 1) -> torch.Tensor:
    """Per class, the correctly answered images whose top-1 probability is closest to `top1`."""
    probs, labels = probs.cpu(), labels.cpu()
    conf = probs.max(1).values  # (N,)
    correct = probs.argmax(1) == labels
    picks = []
    for c in range(probs.shape[1]):
        idx = torch.nonzero(correct & (labels == c)).flatten()
        picks.append(idx[(conf[idx] - top1).abs().argsort()[:per_class]])
    return torch.cat(picks)


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
        axes[r, 0].imshow(_img(images[r]))
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
    a0.imshow(_img(image))
    a0.axis("off")
    a0.set_title(f"true class: {classes[label]}", fontsize=10)
    _bars_T(a1, p, classes, label, f"teacher at T = {T:.2f}   (entropy {entropy(p).item():.2f} nats; "
                                   f"dashed: T = {reference_T:g})", ref=ref)
    a1.set_yticks(np.arange(len(classes))[::-1], classes, fontsize=8)
    fig.tight_layout()
    return fig


def class_similarity(probs: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Mean soft label per true class, shape (C, C): row i averages the teacher's probabilities on class i."""
    probs, labels = probs.cpu().double(), labels.cpu()
    return torch.stack([probs[labels == c].mean(0) for c in range(num_classes)])


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
