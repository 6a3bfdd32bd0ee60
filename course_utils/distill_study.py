"""Notebook 03's study, defined once: its parameters per profile, its data split, its seeding, and the
one function that trains a student of it. The notebook and bench/distill_study.py both use it.

The primary comparison: a student that learns from only `labelled_per_class` labelled images per class
(the teacher saw 5,000 per class), with hard labels or with the blended loss, paired by seed.
Choices (each arm's learning rate) are made on a validation set drawn from the *test* split, which
neither the teacher nor any student trains on; the rest of the test split measures, once per arm.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import torch
from torch import nn

from . import config, data, losses, models, train
from .results import BENCH_DIR

LOADER_SEED = 0  # every run of the study sees the same batches (order, flips, shifts): the teacher runs once
ARMS = ("hard", "blended", "label smoothing", "shuffled teacher")


@dataclass
class Study:
    labelled_per_class: int  # labelled training images per class the student learns from (the teacher saw 5,000)
    epochs: int  # passes over them, the same for every arm
    batch_size: int  # images per step
    seeds: int  # paired seeds: seed s sets the initial weights of every arm's student
    val_per_class: int  # test-split images per class set aside for choices (teacher and students never train on them)
    test_per_class: int | None  # test-split images per class that measure (None: all the rest)
    lr: dict = field(default_factory=dict)  # peak learning rate per arm at batch 1024, chosen on validation
    T: float = 4.0  # temperature of the blended loss
    alpha: float = 0.1  # weight of the hard-label term, chosen on validation (T was fixed in advance: bench/README.md)
    same_data_seeds: int = 0  # seeds of the second comparison (all 50,000 labels; 0: read from bench JSON)
    same_data_epochs: int = 10


STUDIES = {
    # about 5 minutes on a 2-core CPU: 20 runs of 80 steps
    "quick": Study(labelled_per_class=20, epochs=40, batch_size=100, seeds=5, val_per_class=200, test_per_class=200),
    # one GPU: more seeds, the whole remaining test split, and the same-data comparison run live
    "full": Study(labelled_per_class=20, epochs=40, batch_size=100, seeds=10, val_per_class=500, test_per_class=None,
                  same_data_seeds=8),
}
DEFAULT_LR = 1.5  # the teacher's rate; used for an arm the validation benchmark has not chosen one for


def lr_choice_file(profile: str) -> Path:
    profile = config.study_profile(profile)
    return BENCH_DIR / ("cpu" if profile == "quick" else "gpu") / f"distill_study_lr_{profile}.json"


def get_study(profile: str) -> Study:
    """The study of this profile, with each arm's learning rate read from the validation benchmark's JSON."""
    profile = config.study_profile(profile)
    path = lr_choice_file(profile)
    chosen = json.loads(path.read_text())["chosen_lr"] if path.exists() else {}
    return replace(STUDIES[profile], lr={arm: chosen.get(arm, DEFAULT_LR) for arm in ARMS})


def split(cifar: data.CIFAR10, study: Study) -> tuple[data.CIFAR10, tuple, tuple]:
    """(labelled data with the measuring test split, (val images, labels), (test images, labels))."""
    rest, val_x, val_y = cifar.set_aside("test", study.val_per_class, seed=7)
    labelled = rest.subset(study.labelled_per_class, study.test_per_class, seed=0)
    return labelled, (val_x, val_y), (labelled.test_images, labelled.test_labels)


def new_student(seed: int, images: torch.Tensor) -> models.Net:
    """The student every arm of this seed starts from: same seed, same initial weights."""
    config.set_seed(1000 + seed)
    return models.make_student(whiten_with=images).to(images.device, memory_format=data.MEMORY_FORMAT)


def loader(images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> data.Loader:
    return data.Loader(images, labels, batch_size=batch_size, seed=LOADER_SEED)


class CachedTeacher:
    """A frozen teacher that remembers its logits for a stream of batches and replays them.

    Runs that use loaders with the same seed see the same batches in the same order, so the
    teacher's answers repeat exactly; this pays the teacher's forward pass once instead of once per
    run. Call rewind() before each run. A cheap signature of every batch is checked, and rewind()
    raises when the last run fed batches other than the cached ones.
    """

    def __init__(self, teacher: nn.Module):
        self.teacher = teacher.eval()
        self.logits: list[torch.Tensor] = []  # one (B, C) float32 tensor per batch, in order
        self.signatures: list[torch.Tensor] = []
        self.position = 0
        self.mismatches = None  # a device tensor: compared without a host sync every step

    @staticmethod
    def _signature(x: torch.Tensor) -> torch.Tensor:
        return x.float().flatten(1)[:, ::7].sum(1)  # (B,)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        sig = self._signature(x)
        if self.position < len(self.logits):
            stored = self.signatures[self.position]
            bad = (stored.shape != sig.shape) or None
            if bad is None:
                diff = (~torch.isclose(stored, sig, rtol=1e-4, atol=1e-3)).sum()
                self.mismatches = diff if self.mismatches is None else self.mismatches + diff
            else:
                self.mismatches = torch.tensor(1)
            out = self.logits[self.position]
        else:
            out = self.teacher(x).float()
            self.logits.append(out)
            self.signatures.append(sig)
        self.position += 1
        return out

    def eval(self) -> "CachedTeacher":
        self.teacher.eval()
        return self

    def rewind(self) -> None:
        """Back to the first batch; raises if the last run's batches differed from the cached ones."""
        bad = 0 if self.mismatches is None else int(self.mismatches)
        self.position, self.mismatches = 0, None
        if bad:
            raise RuntimeError(f"CachedTeacher replayed logits for {bad} examples that differed from the ones it "
                               "cached: give every run a loader with the same seed, batch size and data, "
                               "or use a fresh CachedTeacher.")


def smoothing_for_entropy(target_entropy: float, num_classes: int = 10) -> float:
    """The label-smoothing epsilon whose targets have this entropy (nats): the true class gets
    1 - eps + eps / C, every other class eps / C. Found by bisection on [0, (C - 1) / C]."""
    C = num_classes
    if not 0.0 <= target_entropy <= math.log(C):
        raise ValueError(f"target_entropy must lie in [0, log({C}) = {math.log(C):.3f}] nats, got {target_entropy!r}.")

    def H(eps: float) -> float:
        top, rest = 1 - eps + eps / C, eps / C
        return -(top * math.log(top) + (C - 1) * (rest * math.log(rest) if rest > 0 else 0.0))

    lo, hi = 0.0, (C - 1) / C
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if H(mid) < target_entropy else (lo, mid)
    return (lo + hi) / 2


def shuffle_wrong_classes(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each row's top logit stays in place; the other C - 1 logits are permuted at random among the
    other classes (a new permutation per row). Same top class, same softness at every T, no class
    structure: the control that tells the teacher's knowledge of *which* classes look alike from softness."""
    B, C = logits.shape
    top = logits.argmax(1, keepdim=True)  # (B, 1)
    classes = torch.arange(C, device=logits.device).expand(B, C)
    others = classes[classes != top].view(B, C - 1)  # (B, C-1) the non-top classes, in order
    order = torch.rand(B, C - 1, generator=generator).argsort(1).to(logits.device)  # (B, C-1) a random order
    out = logits.clone()
    out.scatter_(1, others, logits.gather(1, others.gather(1, order)))
    return out


class ShuffledTeacher:
    """The teacher's logits with each row's wrong classes permuted (shuffle_wrong_classes):
    the same top class and softness, no class structure. Seeded: a run's permutations repeat."""

    def __init__(self, teacher, seed: int):
        self.teacher, self.generator = teacher, torch.Generator().manual_seed(seed)

    def eval(self) -> "ShuffledTeacher":
        self.teacher.eval()
        return self

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return shuffle_wrong_classes(self.teacher(x), self.generator)


def matched_smoothing(teacher_logits: torch.Tensor, T: float) -> float:
    """Label smoothing whose targets are as soft as the teacher's at temperature T (mean entropy, nats)."""
    mean_entropy = losses.entropy(losses.softmax_with_temperature(teacher_logits, T)).mean().item()
    return smoothing_for_entropy(mean_entropy, teacher_logits.shape[1])


def arm_spec(arm: str, study: Study, smoothing: float, cache: CachedTeacher, seed: int):
    """(loss_fn, teacher or None) of an arm: the only things that differ between a seed's students."""
    if arm == "hard":
        return losses.hard_loss, None
    if arm == "blended":
        return partial(losses.distillation_loss, T=study.T, alpha=study.alpha), cache
    if arm == "label smoothing":
        return partial(losses.label_smoothing_loss, smoothing=smoothing), None
    if arm == "shuffled teacher":
        return partial(losses.distillation_loss, T=study.T, alpha=study.alpha), ShuffledTeacher(cache, seed)
    raise ValueError(f"arm must be one of {ARMS}, got {arm!r}.")


def train_arm(arm: str, seed: int, labelled: data.CIFAR10, study: Study, smoothing: float,
              cache: CachedTeacher, lr: float | None = None) -> tuple[models.Net, train.History]:
    """Train seed `seed`'s student of `arm` on the labelled images with train.fit: (student in eval mode, history)."""
    loss_fn, teacher = arm_spec(arm, study, smoothing, cache, seed)
    student = new_student(seed, labelled.train_images)
    cache.rewind()  # every run replays the same batches from the first
    history = train.fit(student, loader(labelled.train_images, labelled.train_labels, study.batch_size), loss_fn,
                        cfg=train.STUDENT_RECIPE, teacher=teacher, epochs=study.epochs, lr=lr or study.lr[arm],
                        verbose=False)
    return student, history
