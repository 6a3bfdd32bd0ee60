r"""Soft labels, temperature and the blended distillation loss (Hinton, Vinyals & Dean, 2015).

    p_i(T) = exp(z_i / T) / sum_j exp(z_j / T)                       softmax with temperature
    hard   = CE(student, labels)
    soft   = T^2 * KL(p_teacher(T) || p_student(T))                    batch mean
    loss   = alpha * hard + (1 - alpha) * soft

The T^2 keeps the soft term's gradient comparable with the hard term's as T grows: the
gradient of KL w.r.t. a student logit is (p_s,i(T) - p_t,i(T)) / T; for large T the difference itself is
about (z_s,i - z_t,i - mean difference) / (C T) (C classes), so the gradient shrinks like 1/T^2.
"""
from __future__ import annotations

import contextlib
import math
import numbers

import torch
import torch.nn.functional as F

_check_values = True  # NaN and label-range checks read values back to the host (a GPU sync)


@contextlib.contextmanager
def fast_checks():
    """Skip the value checks (shapes are still checked): the training loop uses this on a GPU,
    where reading a value back each step stalls the pipeline; it checks the loss itself instead."""
    global _check_values
    old, _check_values = _check_values, False
    try:
        yield
    finally:
        _check_values = old


# ----------------------------------------------------------------------------- input checks

def _number(value, name: str):
    """float(value) for one real number: int, float, a numpy scalar or a one-element tensor (bool refused)."""
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{name} must be one number, got a tensor of shape {tuple(value.shape)}.")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def check_T(T) -> float:
    t = _number(T, "temperature T")
    if t is None or not math.isfinite(t) or t <= 0:
        raise ValueError(f"temperature T must be a finite number > 0, got {T!r}. "
                         "T = 1 is the ordinary softmax; distillation typically uses T between 1 and 20.")
    return t


def _check_alpha(alpha) -> float:
    a = _number(alpha, "alpha")
    if a is None or not 0.0 <= a <= 1.0:
        raise ValueError(f"alpha must be a number in [0, 1] (the weight of the hard-label term), got {alpha!r}.")
    return a


def _check_logits(logits: torch.Tensor, name: str) -> None:
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"{name} must be a tensor shaped (batch, classes), got {got}.")
    if len(logits) == 0:
        raise ValueError(f"{name} hold an empty batch (0 rows): a loss is a mean over the batch, and the mean of "
                         "nothing is NaN. Pass at least one example (a language model: at least one position whose "
                         "target is not padding).")
    if _check_values and not torch.isfinite(logits).all():
        bad = (~torch.isfinite(logits)).sum().item()
        raise ValueError(f"{name} contain {bad} non-finite values (NaN or inf); check the model's output "
                         "(a diverged run, or a lr too high) before computing the loss.")


def _check_pair(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> None:
    _check_logits(student_logits, "student_logits")
    _check_logits(teacher_logits, "teacher_logits")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student and teacher logits must have the same shape (batch, classes), "
                         f"got student {tuple(student_logits.shape)} and teacher {tuple(teacher_logits.shape)}.")


def _check_labels(labels: torch.Tensor, logits: torch.Tensor) -> None:
    B, C = logits.shape
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or len(labels) != B:
        got = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"labels must be a 1-D tensor of {B} class indices (one per logit row), got {got}.")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}.")
    if _check_values and len(labels) and (labels.min() < 0 or labels.max() >= C):
        raise ValueError(f"labels must lie in [0, {C - 1}] for {C} classes, "
                         f"got values from {labels.min().item()} to {labels.max().item()}.")


# ----------------------------------------------------------------------------- the maths

def _up(x: torch.Tensor) -> torch.Tensor:
    """Half-precision logits (from autocast) are computed on in float32; float32/64 stay as they are."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def softmax_with_temperature(logits: torch.Tensor, T: float = 1.0) -> torch.Tensor:
    """softmax(logits / T) over the last dimension; stable for huge logits and tiny T. A logit of -inf (a masked
    class) gets probability 0; NaN or +inf are refused."""
    T = check_T(T)
    if not isinstance(logits, torch.Tensor):
        raise ValueError(f"logits must be a tensor (classes on the last dimension), got {type(logits).__name__}: "
                         "convert with torch.tensor(...).")
    if _check_values and (torch.isnan(logits).any() or torch.isposinf(logits).any()):
        raise ValueError("logits contain NaN or +inf, so every probability of their row would be NaN; check where "
                         "they come from (a diverged run, a division by zero).")
    z = logits / T
    z = z - z.amax(dim=-1, keepdim=True)  # the largest becomes 0: exp never overflows
    e = torch.exp(z)
    return e / e.sum(dim=-1, keepdim=True)


def log_softmax_with_temperature(logits: torch.Tensor, T: float = 1.0) -> torch.Tensor:
    """log softmax(logits / T), computed stably (log-sum-exp)."""
    T = check_T(T)
    return F.log_softmax(logits / T, dim=-1)


def hard_loss(student_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with the true labels, batch mean."""
    _check_logits(student_logits, "student_logits")
    _check_labels(labels, student_logits)
    return F.cross_entropy(_up(student_logits), labels)


def soft_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, T: float = 2.0) -> torch.Tensor:
    """T^2 * KL(softmax(teacher/T) || softmax(student/T)), batch mean; no gradient reaches the teacher."""
    T = check_T(T)
    _check_pair(student_logits, teacher_logits)
    log_p_t = log_softmax_with_temperature(_up(teacher_logits.detach()), T)  # (B, C) target
    log_p_s = log_softmax_with_temperature(_up(student_logits), T)  # (B, C)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=-1)  # (B,) KL per example
    return T ** 2 * kl.mean()


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      T: float = 2.0, alpha: float = 0.5) -> torch.Tensor:
    """alpha * CE(student, labels) + (1 - alpha) * T^2 * KL(teacher_T || student_T), batch mean."""
    alpha = _check_alpha(alpha)
    _check_pair(student_logits, teacher_logits)
    return alpha * hard_loss(student_logits, labels) + (1 - alpha) * soft_loss(student_logits, teacher_logits, T)


def soft_target_loss(student_logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against given probability targets (B, C), e.g. a black-box API's answers."""
    _check_logits(student_logits, "student_logits")
    if not isinstance(target_probs, torch.Tensor) or target_probs.shape != student_logits.shape:
        got = tuple(target_probs.shape) if isinstance(target_probs, torch.Tensor) else type(target_probs).__name__
        raise ValueError(f"target_probs must be a tensor of the logits' shape {tuple(student_logits.shape)}, got {got}.")
    if _check_values and not (torch.isfinite(target_probs).all() and (target_probs >= 0).all()):
        raise ValueError(f"target_probs must be probabilities (finite, >= 0), got values from "
                         f"{target_probs.min().item():g} to {target_probs.max().item():g}: a negative target makes a "
                         "negative cross-entropy. Build them with copier.to_targets or a softmax.")
    return -(target_probs.to(_up(student_logits).dtype) * F.log_softmax(_up(student_logits), dim=-1)).sum(-1).mean()


def label_smoothing_loss(student_logits: torch.Tensor, labels: torch.Tensor, smoothing: float = 0.1) -> torch.Tensor:
    """Cross-entropy with labels smoothed towards uniform: the 'is KD just smoothing?' baseline."""
    _check_logits(student_logits, "student_logits")
    _check_labels(labels, student_logits)
    if _number(smoothing, "smoothing") is None or not 0.0 <= float(smoothing) < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing!r}.")
    return F.cross_entropy(_up(student_logits), labels, label_smoothing=smoothing)


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in nats over the last dimension (0 log 0 = 0)."""
    return -(probs * torch.log(probs.clamp_min(1e-30))).sum(-1)
