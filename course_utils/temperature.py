"""Soft labels and temperature, the maths of notebook 01: softened distributions, the gradients
that explain the T^2 factor, the high-temperature limit, and a teacher's dark knowledge per class."""
from __future__ import annotations

import numpy as np
import torch

from .losses import entropy, soft_loss, softmax_with_temperature

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


def as_logits(logits) -> torch.Tensor:
    """Logits as a 1-D float64 tensor (one number per class), checked."""
    z = torch.as_tensor(logits, dtype=torch.float64)
    if z.ndim != 1 or len(z) < 2:
        raise ValueError(f"logits must be a 1-D list of at least 2 numbers (one per class), got shape {tuple(z.shape)}.")
    return z


def soft_labels(logits, Ts) -> torch.Tensor:
    """softmax(z / T) for each T in Ts: shape (len(Ts), N), float64."""
    z = as_logits(logits)
    return torch.stack([softmax_with_temperature(z, float(T)) for T in Ts])


def temperature_summary(logits, T: float) -> dict:
    """What the explorer reports at temperature T: probabilities, entropy (nats), p(2nd)/p(3rd), argmax."""
    z = as_logits(logits)
    p = soft_labels(z, [T])[0]  # (N,)
    ranked = p.sort(descending=True).values
    return {"T": float(T), "probs": p.tolist(), "entropy": entropy(p).item(), "max_entropy": float(np.log(len(p))),
            "ratio_2_3": (ranked[1] / ranked[2]).item() if len(p) > 2 else float("nan"),
            "argmax": int(p.argmax())}


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


def class_similarity(probs: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Mean soft label per true class, shape (C, C): row i averages the teacher's probabilities on class i."""
    probs, labels = probs.cpu().double(), labels.cpu()
    return torch.stack([probs[labels == c].mean(0) for c in range(num_classes)])



def fit_logits(teacher_logits, T: float, steps: int = 100, lr: float = 0.5, scale_T2: bool = True,
               seed: int = 0) -> float:
    """Train free student logits, from a random start (seed), to match the teacher at temperature T by plain
    gradient descent on the soft loss (T^2 KL, or the KL alone with scale_T2=False); the KL(p || q) reached."""
    t = as_logits(teacher_logits)[None]  # (1, N)
    s = torch.randn(t.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).requires_grad_(True)
    for _ in range(steps):
        loss = soft_loss(s, t, T) if scale_T2 else soft_loss(s, t, T) / T ** 2  # T^2 KL, or the KL alone
        grad, = torch.autograd.grad(loss, s)
        with torch.no_grad():
            s -= lr * grad
    with torch.no_grad():
        return (soft_loss(s, t, T) / T ** 2).item()
