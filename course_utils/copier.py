"""The copier's side of black-box distillation: collect a teacher API's answers on unlabelled images,
read them (text answers included), and turn them into the targets and loss a student trains on."""
from __future__ import annotations

import numbers
import re
import warnings

import torch

from . import data, losses
from .server import EXPOSURES, BudgetExceeded, TeacherAPI, TopK

def collect(api: TeacherAPI, images: torch.Tensor, chunk: int = 10_000):
    """Query `images` in chunks and join the answers; refused whole (BudgetExceeded) if the budget is short."""
    if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1:
        raise ValueError(f"chunk must be a whole number of images >= 1 (images per request), got {chunk!r}.")
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
    if not isinstance(index, slice):
        index = torch.as_tensor(index) if not isinstance(index, torch.Tensor) else index
        if index.dtype.is_floating_point or index.dtype == torch.bool or index.ndim != 1:
            raise ValueError(f"index must be a slice (e.g. slice(0, 1000)) or a 1-D tensor of whole positions, got "
                             f"{index.dtype} of shape {tuple(index.shape)}.")
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
    An answer with no probability left at all (every class rounded to 0 by an API's `decimals=0`) becomes the
    uniform distribution, with a warning that counts them.
    """
    if exposure not in EXPOSURES:
        raise ValueError(f"unknown exposure {exposure!r}: choose one of {EXPOSURES}.")
    T = losses.check_T(T)
    if exposure == "label":
        if not isinstance(answers, torch.Tensor) or answers.ndim != 1:
            raise ValueError("'label' answers are a 1-D tensor of class indices, as api.query returns them.")
        if answers.dtype.is_floating_point or answers.dtype == torch.bool:
            raise ValueError(f"'label' answers are whole class indices (int64, as api.query returns them), got "
                             f"{answers.dtype}: rounding them would invent labels.")
        if len(answers) and (answers.min() < 0 or answers.max() >= num_classes):
            raise ValueError(f"'label' answers must lie in [0, {num_classes - 1}] for num_classes={num_classes}, got "
                             f"values from {answers.min().item()} to {answers.max().item()}.")
        return answers.long().clone()
    if exposure == "text":
        if not isinstance(answers, list):
            raise ValueError("'text' answers are a list of sentences, as api.query returns them.")
        return parse_text(answers)
    if exposure == "logits":
        if not isinstance(answers, torch.Tensor) or answers.ndim != 2:
            raise ValueError("'logits' answers are a tensor shaped (N, C), as api.query returns them.")
        return losses.softmax_with_temperature(answers.float(), T)
    if exposure == "top_k":
        if not isinstance(answers, TopK):
            raise ValueError("'top_k' answers are a TopK(classes, probs) pair, as api.query returns them.")
        N, k = answers.classes.shape
        if len(answers.classes) and (answers.classes.min() < 0 or answers.classes.max() >= num_classes):
            raise ValueError(f"the top-k answers name classes from {answers.classes.min().item()} to "
                             f"{answers.classes.max().item()}, but num_classes={num_classes}: pass the API's number of "
                             "classes (len(api.classes)).")
        shown = answers.probs.float().clamp_min(0)  # (N, k)
        hidden = (1 - shown.sum(1, keepdim=True)).clamp_min(0) / max(num_classes - k, 1)  # (N, 1) per hidden class
        p = hidden.expand(N, num_classes).clone()  # (N, C)
        p.scatter_(1, answers.classes, shown)
    else:
        if not isinstance(answers, torch.Tensor) or answers.ndim != 2:
            raise ValueError("'probs' answers are a tensor shaped (N, C), as api.query returns them.")
        p = answers.float().clamp_min(0)
    if not torch.isfinite(p).all():
        raise ValueError(f"the {exposure!r} answers hold {int((~torch.isfinite(p)).sum())} non-finite probabilities "
                         "(NaN or inf): an API answers finite numbers; check what produced these.")
    empty = p.sum(1) == 0  # every probability rounded to 0 (an API with decimals=0): the answer says only "< 0.5"
    if empty.any():
        warnings.warn(f"{int(empty.sum()):,d} of {len(p):,d} answers hold no probability at all (every class rounded "
                      "to 0): they become the uniform distribution, the least-informed guess, so those images still "
                      "count but teach the student nothing of the teacher.", stacklevel=2)
        p[empty] = 1.0
    p = p / p.sum(1, keepdim=True)  # rounding can make the sum differ from 1
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
