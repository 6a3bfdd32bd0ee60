r"""A teacher behind an API: what a closed model exposes, what each answer costs, and how a student
learns from the answers (black-box distillation).

    exposure   what api.query(images) returns for N images            what the student can rebuild
    "logits"   float32 (N, C) raw scores (white-box, for comparison)   everything
    "probs"    float32 (N, C) probabilities, softmax(z)                everything (log p = z - const)
    "top_k"    TopK(classes (N, k) int64, probs (N, k) float32)        the k best; the rest is a guess
    "label"    int64 (N,) the most likely class                        one class, no confidence
    "text"     list of N sentences: "That looks like a cat."           the label, after parse_text()

The student's side: collect() the answers on a transfer set of unlabelled images, turn them into
training targets with to_targets() (labels (N,) or probabilities (N, C)), train with train.fit and
student_loss(), and measure fidelity (agreement with the teacher) beside accuracy (agreement with
the truth).
"""
from __future__ import annotations

import math
import re
from typing import NamedTuple

import torch
from torch import nn

from . import config
from . import data as cdata
from . import losses, models, train
from .train import agreement, copied_errors  # noqa: F401  (re-exported: notebook 04 measures copies with them)

EXPOSURES = ("logits", "probs", "top_k", "label", "text")
TEXT_TEMPLATES = (  # the API's phrasings; which one is used depends on the image (deterministically)
    "That looks like {a} {name}.",
    "I'd say this is {a} {name}.",
    "This is most likely {a} {name}.",
    "Looks like {a} {name} to me.",
    "My answer: {name}.",
)


class BudgetExceeded(RuntimeError):
    """A request would pass the query budget; it was refused whole (nothing answered, nothing counted)."""


class TopK(NamedTuple):
    """The answer of a top_k API: the k most likely classes, best first, and their probabilities."""

    classes: torch.Tensor  # (N, k) int64
    probs: torch.Tensor  # (N, k) float32


def _article(name: str) -> str:
    return "an" if name[0] in "aeiou" else "a"


class TeacherAPI:
    """A trained classifier served as a closed API: every image is one paid query, and each answer
    exposes only what `exposure` allows.

    exposure: one of EXPOSURES. k: how many classes a "top_k" answer shows (1..C).
    budget: how many images may be queried in all (int >= 0). price_per_1k: money per 1,000 queries.
    Defences (off by default): decimals rounds probabilities (and logits) to that many decimals;
    perturb is the share of answers deliberately made wrong (the top class swapped with another);
    which images are perturbed, and which sentence "text" uses, depends on the pixels and `secret`
    only, so the same image always gets the same answer.

    The model sits in a private attribute. Python cannot truly hide an object (anyone can read
    api._model), so this is a simulation of a closed API: it offers no *public* way to reach the
    weights or the logits beyond what `exposure` allows, and answers are plain tensors, TopK pairs or
    strings that hold no reference to the model.
    """

    def __init__(self, model: nn.Module, exposure: str = "label", budget: int = 50_000, k: int = 3,
                 price_per_1k: float = 1.0, decimals: int | None = None, perturb: float = 0.0,
                 classes: tuple = cdata.CLASSES, secret: int = 0, batch_size: int = 1000):
        if exposure not in EXPOSURES:
            raise ValueError(f"unknown exposure {exposure!r}: choose one of {EXPOSURES} "
                             "(from most to least revealing).")
        C = len(classes)
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
            raise ValueError(f"budget must be a whole number of queries >= 0 (one query = one image), got {budget!r}.")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= C:
            raise ValueError(f"k must be a whole number between 1 and {C} (the number of classes), got {k!r}. "
                             "k = 1 shows only the top class with its probability; k = C shows everything.")
        if not isinstance(price_per_1k, (int, float)) or not math.isfinite(price_per_1k) or price_per_1k < 0:
            raise ValueError(f"price_per_1k must be a finite number >= 0, got {price_per_1k!r}.")
        if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0):
            raise ValueError(f"decimals must be None (no rounding) or a whole number >= 0, got {decimals!r}.")
        if not isinstance(perturb, (int, float)) or not 0.0 <= perturb <= 1.0:
            raise ValueError(f"perturb must be a share between 0 and 1 (0.05 = 5% of answers wrong), got {perturb!r}.")
        self._model = model.eval()  # private: the "closed" part (see the class docstring)
        self._device = next(model.parameters()).device
        self._exposure, self._k, self._budget = exposure, k, budget
        self._price, self._decimals, self._perturb = float(price_per_1k), decimals, float(perturb)
        self._classes, self._batch_size, self._secret, self._used = tuple(classes), batch_size, secret, 0

    # ------------------------------------------------------------------ what the client can read
    exposure = property(lambda self: self._exposure, doc="what the answers expose")
    k = property(lambda self: self._k, doc="classes shown per 'top_k' answer")
    budget = property(lambda self: self._budget, doc="queries allowed in all")
    price_per_1k = property(lambda self: self._price, doc="money per 1,000 queries")
    classes = property(lambda self: self._classes, doc="the class names, in label order")
    queries_used = property(lambda self: self._used, doc="queries answered (and paid) so far")
    remaining = property(lambda self: self._budget - self._used, doc="queries left in the budget")
    cost = property(lambda self: self._used * self._price / 1000, doc="money spent so far")

    def spend(self) -> dict:
        """The meter: queries used, remaining, and money spent at price_per_1k."""
        return {"queries": self._used, "remaining": self.remaining, "budget": self._budget,
                "cost": self.cost, "price_per_1k": self._price}

    def __repr__(self) -> str:
        defences = (f", decimals={self._decimals}" if self._decimals is not None else "") + \
                   (f", perturb={self._perturb:g}" if self._perturb else "")
        k = f", k={self._k}" if self._exposure == "top_k" else ""
        return (f"TeacherAPI(exposure={self._exposure!r}{k}{defences}, used {self._used:,d} of {self._budget:,d} "
                f"queries, spent {self.cost:.3f} at {self._price:g} per 1,000)")

    # ------------------------------------------------------------------ answering
    def _check_images(self, images) -> None:
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"query() takes a uint8 tensor of images shaped (N, 3, 32, 32), got {type(images).__name__}.")
        if images.dtype != torch.uint8 or images.ndim != 4 or tuple(images.shape[1:]) != (3, 32, 32):
            raise ValueError(f"query() takes uint8 images shaped (N, 3, 32, 32), as course_utils.data holds them; "
                             f"got {images.dtype} {tuple(images.shape)}. A float image in [0, 1] converts with "
                             "(x * 255).round().to(torch.uint8); one image x (3, 32, 32) is x[None].")
        if len(images) == 0:
            raise ValueError("query() got an empty batch (0 images): send at least one image.")

    @torch.no_grad()
    def _logits(self, images: torch.Tensor) -> torch.Tensor:
        """The private part: the model's logits (N, C), float32, in eval mode, without gradients."""
        self._model.eval()  # every call: the API always answers in eval mode, whatever was done to it
        # float32 without autocast, on a GPU no TF32 and no kernel autotuning, and the default memory layout
        # for inputs *and* weights (channels_last, though faster, lets a CPU's answer move by ~1e-8 with the
        # batch; train.fit leaves the models it trains in channels_last, so the weights are put back, in place,
        # which changes no number): the same image gets the same answer whatever batch it comes in (TF32
        # kernels chosen per batch size differ by ~1e-3)
        self._model.to(memory_format=torch.contiguous_format)
        out = []
        with torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True, allow_tf32=False):
            for i in range(0, len(images), self._batch_size):
                x = cdata.normalize(images[i:i + self._batch_size].to(self._device))
                out.append(self._model(x).float())
        return torch.cat(out)

    def query(self, images: torch.Tensor):
        """Answer a batch of uint8 images (N, 3, 32, 32); each image is one query.

        A request larger than the remaining budget raises BudgetExceeded before anything is
        computed or counted. Returns what `exposure` allows (see the module docstring).
        """
        self._check_images(images)
        n = len(images)
        if n > self.remaining:
            raise BudgetExceeded(
                f"this request asks for {n:,d} answers but only {self.remaining:,d} of the budget of {self._budget:,d} "
                f"queries remain; it was refused whole (nothing answered, nothing counted). Send at most "
                f"api.remaining images, or buy a larger budget.")
        answers = expose(self._logits(images), image_hash(images.to(self._device), self._secret), self._exposure,
                         k=self._k, decimals=self._decimals, perturb=self._perturb, classes=self._classes)
        self._used += n  # counted once the answers exist
        return answers


# ---------------------------------------------------------------------- the server's formatting

_HASH_WEIGHTS: dict = {}


def image_hash(images: torch.Tensor, secret: int = 0, batch_size: int = 1000) -> torch.Tensor:
    """(N,) int64: a fixed pseudo-random function of each uint8 image's pixels (and of `secret`)."""
    if secret not in _HASH_WEIGHTS:
        g = torch.Generator().manual_seed(secret)
        _HASH_WEIGHTS[secret] = torch.randint(1, 2 ** 20, (3 * 32 * 32,), generator=g)  # (3072,)
    w = _HASH_WEIGHTS[secret].to(images.device)
    out = [(images[i:i + batch_size].flatten(1).long() * w).sum(1)  # < 255 * 3072 * 2^20 < 2^63: exact
           for i in range(0, len(images), batch_size)]
    return torch.cat(out) if out else torch.empty(0, dtype=torch.int64, device=images.device)


def expose(logits: torch.Tensor, hashes: torch.Tensor, exposure: str, k: int = 3, decimals: int | None = None,
           perturb: float = 0.0, classes: tuple = cdata.CLASSES):
    """Format a teacher's logits (N, C) as an API with this `exposure` answers them (what query() returns).

    `hashes` (N,) from image_hash() choose, per image, which answers a `perturb` defence falsifies and
    which sentence "text" uses. Experiments that compare several exposures on the same images can run
    the teacher once and format its logits several ways with this function: the same answers as
    separate APIs would give, for a fraction of the compute.
    """
    if exposure not in EXPOSURES:
        raise ValueError(f"unknown exposure {exposure!r}: choose one of {EXPOSURES}.")
    logits = logits.float().clone()  # (N, C); never modify the caller's tensor
    N, C = logits.shape
    hashes = hashes.to(logits.device)
    top = logits.argmax(1)  # (N,)
    if perturb > 0:  # a defence: some answers point to a wrong class, always the same ones
        M = 1_000_003  # a prime: h % M is close to uniform
        bad = (hashes % M) < round(perturb * M)  # (N,) bool
        wrong = (top + 1 + (hashes // M) % (C - 1)) % C  # (N,) never the top class
        rows = torch.nonzero(bad).flatten()
        a, b = logits[rows, top[rows]].clone(), logits[rows, wrong[rows]].clone()
        logits[rows, top[rows]], logits[rows, wrong[rows]] = b, a  # swap: the wrong class comes first
        top = torch.where(bad, wrong, top)

    def rounded(x: torch.Tensor) -> torch.Tensor:
        return x if decimals is None else torch.round(x, decimals=decimals)

    if exposure == "label":
        return top
    if exposure == "text":
        names = [classes[int(c)] for c in top.tolist()]
        picks = (hashes // 7 % len(TEXT_TEMPLATES)).tolist()
        return [TEXT_TEMPLATES[t].format(a=_article(nm), name=nm) for nm, t in zip(names, picks)]
    if exposure == "logits":
        return rounded(logits)
    probs = losses.softmax_with_temperature(logits, 1.0)  # (N, C)
    if exposure == "probs":
        return rounded(probs)
    p, c = probs.topk(k, dim=1)  # (N, k) each, best first
    return TopK(classes=c, probs=rounded(p))


# ---------------------------------------------------------------------- the student's side

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


def parse_text(sentences: list[str], classes: tuple = cdata.CLASSES) -> torch.Tensor:
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
    T = losses._check_T(T)
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
    T = losses._check_T(T)

    def loss_fn(student_logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if targets.ndim == 1:
            return losses.hard_loss(student_logits, targets)
        return T ** 2 * losses.soft_target_loss(student_logits / T, targets)

    return loss_fn


# ---------------------------------------------------------------------- the copier's side

def query_stream(num_images: int, n: int, seed: int = 0) -> torch.Tensor:
    """Positions (n,) of the first n images of a query stream: the copier sends its num_images
    unlabelled images to the API in one fixed random order (seed), so a budget of b queries buys
    the first b of them, and a larger budget contains every smaller one."""
    if not 0 < n <= num_images:
        raise ValueError(f"A stream of n queries from {num_images:,d} images needs 0 < n <= {num_images:,d}; "
                         f"got n={n:,d}. Lower the budget, or add images to the transfer set.")
    return torch.randperm(num_images, generator=torch.Generator().manual_seed(seed))[:n]


def steps_for(budget: int, epochs: float, min_steps: int, batch_size: int) -> int:
    """Training steps of a copy with `budget` answers: `epochs` passes over them at batches of
    min(batch_size, budget) images, and at least `min_steps` (a small transfer set is seen many times)."""
    return max(min_steps, math.ceil(epochs * budget / min(batch_size, budget)))


def train_copy(images: torch.Tensor, targets: torch.Tensor, seed: int, *, T: float = 1.0,
               widths=models.STUDENT_WIDTHS, cfg: train.TrainConfig | None = None, batch_size: int = 1024,
               steps: int | None = None, epochs: float | None = None, **overrides):
    """Train a copy (a models.Net of `widths`) on (images -> targets) with train.fit and
    student_loss(T); targets are labels (N,) or probabilities (N, C) from to_targets().
    Give either `steps` or `epochs` (passes over the images). Copies of one seed start from the same
    initial weights and see the same batches, whatever their targets, so comparisons between
    exposures are paired. cfg: a train.TrainConfig (default train.STUDENT_RECIPE); keyword overrides
    change single fields (for example lr=1.5). Returns (model, train.History)."""
    if (steps is None) == (epochs is None):
        raise ValueError(f"train_copy needs exactly one of steps or epochs; got steps={steps}, epochs={epochs}.")
    loader = cdata.Loader(images, targets, batch_size=min(batch_size, len(images)), seed=seed)
    config.set_seed(1000 + seed)  # the same initial weights for every copy of this seed
    net = models.make_net(widths, whiten_with=images).to(images.device)
    history = train.fit(net, loader, student_loss(T), cfg=cfg or train.STUDENT_RECIPE,
                        epochs=epochs if epochs is not None else steps / len(loader), verbose=False, **overrides)
    return net, history


# ---------------------------------------------------------------------- measuring the copy

def fidelity(student_pred: torch.Tensor, teacher_pred: torch.Tensor) -> float:
    """How often the student gives the teacher's answer (top-1 agreement), on held-out images."""
    return agreement(student_pred, teacher_pred)


def synthetic_images(n: int, seed: int = 0, device=None) -> torch.Tensor:
    """n smooth random colour images, uint8 (n, 3, 32, 32): noise at 4x4, 8x8, 16x16 and 32x32
    resolution, upsampled and summed with falling weights (no objects, no classes)."""
    g = torch.Generator().manual_seed(seed)
    img = torch.zeros(n, 3, 32, 32)
    for size, weight in ((4, 1.0), (8, 0.5), (16, 0.25), (32, 0.125)):
        noise = torch.randn(n, 3, size, size, generator=g)
        img += weight * nn.functional.interpolate(noise, size=32, mode="bilinear", align_corners=False)
    lo = img.amin(dim=(1, 2, 3), keepdim=True)
    hi = img.amax(dim=(1, 2, 3), keepdim=True)
    img = (img - lo) / (hi - lo) * 255  # each image spans the full range
    return img.round().to(torch.uint8).to(device or "cpu")


def at_budget(budgets, values, queries: float) -> float:
    """A measured curve (values at increasing budgets) read at `queries`, linear in log(queries);
    clamped to the measured range (below the first budget: the first value; above the last: the last)."""
    import numpy as np

    b = np.log(np.asarray(budgets, dtype=float))
    return float(np.interp(np.log(max(float(queries), 1.0)), b, np.asarray(values, dtype=float)))
