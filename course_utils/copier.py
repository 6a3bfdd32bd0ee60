"""The copier's side of black-box distillation: collect a teacher API's answers on unlabelled images,
read them (text answers included), and turn them into the targets and loss a student trains on."""
from __future__ import annotations

import re

import torch

from . import data, losses
from .server import EXPOSURES, BudgetExceeded, TeacherAPI, TopK

def collect(api: TeacherAPI, images: torch.Tensor, chunk: int = 10_000):
    """Query `images` in chunks and join the answers; refused whole (BudgetExceeded) if the budget is short."""
    if isinstance(images, torch.Tensor) and len(images) > api.remaining:
        raise BudgetExceeded(f"collecting {len(images):,d} answers needs {len(images):,d} queries but only "
                             f"{api.remaining:,d} remain; nothing was queried.")
    parts = [api.query(images[i:i + chunk]) for i in range(0, max(len(images), 1), chunk)]
    return join(parts)


def join(parts: list):
    """Concatenate answers of the same exposure (tensors, TopK pairs or lists of sentences)."""
    first = parts[0]
    if isinstance(first, TopK):
        return TopK(torch.cat([p.classes for p in parts]), torch.cat([p.probs for p in parts]))
    if isinstance(first, list):
        return [s for p in parts for s in p]
    return torch.cat(parts)


def take(answers, index):
    """The answers at `index` (a slice, e.g. slice(0, 1000) for the first 1,000, or an index tensor)."""
    if isinstance(answers, TopK):
        return TopK(answers.classes[index], answers.probs[index])
    if isinstance(answers, list):
        if isinstance(index, slice):
            return answers[index]
        return [answers[int(i)] for i in index]
    return answers[index]


_CLASS_RE: dict = {}


def parse_text(sentences: list[str], classes: tuple = data.CLASSES) -> torch.Tensor:
    """Read the class out of each sentence: int64 labels (N,). Raises ValueError on an unreadable answer."""
    if isinstance(sentences, str):
        raise TypeError("parse_text() takes a list of sentences; wrap a single one: parse_text([s]).")
    key = tuple(classes)
    if key not in _CLASS_RE:  # whole words, any case, an optional plural "s"
        _CLASS_RE[key] = re.compile(r"\b(" + "|".join(map(re.escape, classes)) + r")s?\b", re.IGNORECASE)
    pattern, lookup = _CLASS_RE[key], {c.lower(): i for i, c in enumerate(classes)}
    out = []
    for i, s in enumerate(sentences):
        found = {lookup[m.lower()] for m in pattern.findall(s if isinstance(s, str) else "")}
        if len(found) != 1:
            what = "no class name" if not found else f"{len(found)} class names ({sorted(classes[j] for j in found)})"
            raise ValueError(f"could not read answer {i}: {s!r} holds {what}; expected exactly one of {list(classes)}. "
                             "Fix the parser, or drop this answer (and say so) before training.")
        out.append(found.pop())
    return torch.tensor(out, dtype=torch.int64)


def to_targets(answers, exposure: str, num_classes: int = 10, T: float = 1.0) -> torch.Tensor:
    r"""What the student trains on: labels (N,) int64 for "label"/"text", probabilities (N, C) otherwise.

    "logits": softmax(z / T). "probs": renormalised (rounding may break the sum), then softened as
    p_i^{1/T} / sum_j p_j^{1/T}, which equals softmax(z / T) exactly when nothing was rounded.
    "top_k": the k shown probabilities where they belong; the hidden mass 1 - sum(shown) spread
    evenly over the C - k hidden classes (all we know is that each is below the k-th; even spreading
    is the maximum-entropy guess under that constraint when the mass is small), then softened like probs.
    """
    if exposure not in EXPOSURES:
        raise ValueError(f"unknown exposure {exposure!r}: choose one of {EXPOSURES}.")
    T = losses.check_T(T)
    if exposure == "label":
        if not isinstance(answers, torch.Tensor) or answers.ndim != 1:
            raise ValueError("'label' answers are a 1-D tensor of class indices, as api.query returns them.")
        return answers.long().clone()
    if exposure == "text":
        if not isinstance(answers, list):
            raise ValueError("'text' answers are a list of sentences, as api.query returns them.")
        return parse_text(answers)
    if exposure == "logits":
        return losses.softmax_with_temperature(answers.float(), T)
    if exposure == "top_k":
        if not isinstance(answers, TopK):
            raise ValueError("'top_k' answers are a TopK(classes, probs) pair, as api.query returns them.")
        N, k = answers.classes.shape
        shown = answers.probs.float().clamp_min(0)  # (N, k)
        hidden = (1 - shown.sum(1, keepdim=True)).clamp_min(0) / max(num_classes - k, 1)  # (N, 1) per hidden class
        p = hidden.expand(N, num_classes).clone()  # (N, C)
        p.scatter_(1, answers.classes, shown)
    else:
        if not isinstance(answers, torch.Tensor) or answers.ndim != 2:
            raise ValueError("'probs' answers are a tensor shaped (N, C), as api.query returns them.")
        p = answers.float().clamp_min(0)
    p = p / p.sum(1, keepdim=True).clamp_min(1e-12)  # rounding can make the sum differ from 1
    if T != 1.0:
        p = p ** (1.0 / T)
        p = p / p.sum(1, keepdim=True)
    return p


def student_loss(T: float = 1.0):
    """loss_fn(student_logits, targets) for train.fit: cross-entropy with labels (N,), or
    T^2 * CE(targets, softmax(student / T)) with probability targets (N, C) (= T^2 KL + a constant)."""
    T = losses.check_T(T)

    def loss_fn(student_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if targets.ndim == 1:
            return losses.hard_loss(student_logits, targets)
        return T ** 2 * losses.soft_target_loss(student_logits / T, targets)

    return loss_fn


def mixed_loss(T: float = 1.0):
    """loss_fn(student_logits, targets) for a copier that holds some true labels and bought the rest: rows that
    name one class (a true label or a label answer, one-hot or as labels (N,)) get cross-entropy; rows that are
    a distribution get T^2 * CE(targets, softmax(student / T)), notebook 03's soft term. The batch mean of both."""
    T = losses.check_T(T)

    def loss_fn(student_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if targets.ndim == 1:
            return losses.hard_loss(student_logits, targets)
        z = student_logits.float() if student_logits.dtype in (torch.float16, torch.bfloat16) else student_logits
        targets = targets.to(z.dtype)
        hard = targets.amax(1) == 1  # (B,) rows that are one class
        ce = torch.nn.functional.cross_entropy(z, targets.argmax(1), reduction="none")  # (B,)
        soft = -(targets * torch.nn.functional.log_softmax(z / T, dim=1)).sum(1) * T ** 2  # (B,)
        return torch.where(hard, ce, soft).mean()

    return loss_fn
