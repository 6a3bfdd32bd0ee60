r"""A teacher behind an API, the server's side: what a closed model exposes, and what each answer costs.

    exposure   what api.query(images) returns for N images            what the student can rebuild
    "logits"   float32 (N, C) raw scores (white-box, for comparison)   everything
    "probs"    float32 (N, C) probabilities, softmax(z)                everything (log p = z - const)
    "top_k"    TopK(classes (N, k) int64, probs (N, k) float32)        the k best; the rest is a guess
    "label"    int64 (N,) the most likely class                        one class, no confidence
    "text"     list of N sentences: "That looks like a cat."           the label, after copier.parse_text()

The copier's side (answers -> training targets) is course_utils.copier.
"""
from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import torch
from torch import nn

from . import data, losses

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


def _whole(x) -> bool:
    """A whole number: int or a numpy integer, not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _real(x) -> bool:
    """A real number: int, float or a numpy scalar, not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


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
                 classes: tuple = data.CLASSES, secret: int = 0, batch_size: int = 1000):
        if exposure not in EXPOSURES:
            raise ValueError(f"unknown exposure {exposure!r}: choose one of {EXPOSURES} "
                             "(from most to least revealing).")
        C = len(classes)
        if not _whole(budget) or budget < 0:
            raise ValueError(f"budget must be a whole number of queries >= 0 (one query = one image), got {budget!r}.")
        if not _whole(k) or not 1 <= k <= C:
            raise ValueError(f"k must be a whole number between 1 and {C} (the number of classes), got {k!r}. "
                             "k = 1 shows only the top class with its probability; k = C shows everything.")
        if not _real(price_per_1k) or not math.isfinite(price_per_1k) or price_per_1k < 0:
            raise ValueError(f"price_per_1k must be a finite number >= 0, got {price_per_1k!r}.")
        if decimals is not None and (not _whole(decimals) or decimals < 0):
            raise ValueError(f"decimals must be None (no rounding) or a whole number >= 0, got {decimals!r}.")
        if not _real(perturb) or not 0.0 <= perturb <= 1.0:
            raise ValueError(f"perturb must be a share between 0 and 1 (0.05 = 5% of answers wrong), got {perturb!r}.")
        if not _whole(secret):
            raise ValueError(f"secret must be a whole number (it seeds which answers a defence changes), got {secret!r}.")
        if not _whole(batch_size) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1 (images the model sees at once), got {batch_size!r}.")
        weights = next(iter(model.parameters()), None) if isinstance(model, nn.Module) else None
        if weights is None:
            raise ValueError(f"model must be a trained torch.nn.Module with weights (its device is read from them), "
                             f"got {type(model).__name__}{' without parameters' if isinstance(model, nn.Module) else ''}.")
        budget, k, secret, batch_size = int(budget), int(k), int(secret), int(batch_size)
        decimals = None if decimals is None else int(decimals)
        self._model = model.eval()  # private: the "closed" part (see the class docstring)
        self._device = weights.device
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
                x = data.normalize(images[i:i + self._batch_size].to(self._device))
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
           perturb: float = 0.0, classes: tuple = data.CLASSES):
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
