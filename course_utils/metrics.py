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
    s, t, y = student_pred.cpu(), teacher_pred.cpu(), labels.cpu()
    wrong = t != y
    n = int(wrong.sum())
    if n == 0:
        return {"n": 0, "same_mistake": math.nan, "student_right": math.nan}
    return {"n": n, "same_mistake": (s[wrong] == t[wrong]).float().mean().item(),
            "student_right": (s[wrong] == y[wrong]).float().mean().item()}


def confusion(pred: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts (true class, predicted class), shape (C, C)."""
    idx = labels.cpu().long() * num_classes + pred.cpu().long()
    return torch.bincount(idx, minlength=num_classes ** 2).view(num_classes, num_classes)


def calibration(probs: torch.Tensor, labels: torch.Tensor, bins: int = 10) -> dict:
    """Mean top-1 probability against accuracy, and the expected calibration error: the gap between
    confidence and accuracy within `bins` equal confidence bins, weighted by the share of images in each."""
    confidence, pred = probs.float().max(1)
    correct = (pred == labels.to(pred.device)).float()
    which = torch.clamp((confidence * bins).long(), max=bins - 1)
    rows = [{"lo": b / bins, "hi": (b + 1) / bins, "n": int((which == b).sum()),
             "confidence": confidence[which == b].mean().item(), "accuracy": correct[which == b].mean().item()}
            for b in range(bins) if (which == b).any()]
    ece = sum(r["n"] * abs(r["confidence"] - r["accuracy"]) for r in rows) / len(probs)
    return {"mean_confidence": confidence.mean().item(), "accuracy": correct.mean().item(), "ece": ece, "bins": rows}


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
