"""How a model is measured beside accuracy: agreement with another model (fidelity, when the other is
the teacher), the teacher's mistakes it copies, the confusion matrix, calibration, and throughput."""
from __future__ import annotations

import math
import time

import torch
from torch import nn

from .train import predict, sync


def agreement(a: torch.Tensor, b: torch.Tensor) -> float:
    """Share of positions where two label tensors (N,) agree: a copy's *fidelity* when b is the teacher's."""
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"agreement() compares two label tensors of the same length, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}.")
    return (a.cpu() == b.cpu()).float().mean().item()


def copied_errors(student_pred: torch.Tensor, teacher_pred: torch.Tensor, labels: torch.Tensor) -> dict:
    """On the images the teacher gets wrong: how often the student gives the same wrong answer,
    how often it is right, and how many such images there are."""
    _labels(student_pred, "student_pred", len(labels))
    _labels(teacher_pred, "teacher_pred", len(labels))
    s, t, y = student_pred.cpu(), teacher_pred.cpu(), labels.cpu()
    wrong = t != y
    n = int(wrong.sum())
    if n == 0:
        return {"n": 0, "same_mistake": math.nan, "student_right": math.nan}
    return {"n": n, "same_mistake": (s[wrong] == t[wrong]).float().mean().item(),
            "student_right": (s[wrong] == y[wrong]).float().mean().item()}


def confusion(pred: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts (true class, predicted class), shape (C, C)."""
    _labels(labels, "labels", len(labels), num_classes)
    _labels(pred, "pred", len(labels), num_classes)
    idx = labels.cpu().long() * num_classes + pred.cpu().long()
    return torch.bincount(idx, minlength=num_classes ** 2).view(num_classes, num_classes)


def calibration(probs: torch.Tensor, labels: torch.Tensor, bins: int = 10) -> dict:
    """Mean top-1 probability against accuracy, and the expected calibration error: the gap between
    confidence and accuracy within `bins` equal confidence bins, weighted by the share of images in each."""
    if not isinstance(probs, torch.Tensor) or probs.ndim != 2 or len(probs) != len(labels) or len(probs) == 0:
        got = tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__
        raise ValueError(f"calibration() takes probabilities (N, C) and N labels, got {got} and {len(labels)} labels.")
    sums = probs.float().sum(1)
    if not torch.isfinite(probs).all() or (probs < 0).any() or not torch.allclose(sums, torch.ones_like(sums), atol=1e-3):
        raise ValueError("calibration() takes probabilities: finite, >= 0, each row summing to 1 (got rows summing to "
                         f"{sums.min().item():.3g} to {sums.max().item():.3g}). Logits become probabilities with "
                         "logits.softmax(1).")
    confidence, pred = probs.float().max(1)
    correct = (pred == labels.to(pred.device)).float()
    which = torch.clamp((confidence * bins).long(), max=bins - 1)
    rows = [{"lo": b / bins, "hi": (b + 1) / bins, "n": int((which == b).sum()),
             "confidence": confidence[which == b].mean().item(), "accuracy": correct[which == b].mean().item()}
            for b in range(bins) if (which == b).any()]
    ece = sum(r["n"] * abs(r["confidence"] - r["accuracy"]) for r in rows) / len(probs)
    return {"mean_confidence": confidence.mean().item(), "accuracy": correct.mean().item(), "ece": ece, "bins": rows}


def _labels(x, name: str, n: int, num_classes: int | None = None) -> None:
    """x must be n predicted (or true) classes: a 1-D integer tensor, within [0, num_classes) when given."""
    if not isinstance(x, torch.Tensor) or x.ndim != 1 or x.dtype.is_floating_point or len(x) != n:
        got = f"{x.dtype} {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        hint = " Pass predicted classes (logits.argmax(1)), not logits." if isinstance(x, torch.Tensor) and x.ndim == 2 else ""
        raise ValueError(f"{name} must be {n} classes, a 1-D integer tensor (one per image), got {got}.{hint}")
    if num_classes is not None and n and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"{name} must lie in [0, {num_classes - 1}] for num_classes={num_classes}, got values from "
                         f"{x.min().item()} to {x.max().item()}.")


@torch.no_grad()
def throughput(model: nn.Module, images: torch.Tensor, batch_size: int = 1000, repeats: int = 3) -> float:
    """Inference images per second on the model's device (after one warm-up pass; best of `repeats`)."""
    device = next(model.parameters()).device
    images = images.to(device)
    predict(model, images[:batch_size], batch_size)  # warm-up: kernels, autotuning, allocator
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        t0 = time.perf_counter()
        predict(model, images, batch_size)
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return len(images) / best
