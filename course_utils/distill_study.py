"""Notebook 03's study, defined once: its parameters per profile, its data split, its seeding, and the
one function that trains a student of it. The notebook and bench/distill_study.py both use it.

The primary comparison: a student that learns from only `labelled_per_class` labelled images per class
(the teacher saw 5,000 per class), with hard labels or with the blended loss, paired by seed.
Choices (each arm's learning rate) are made on a validation set drawn from the *test* split, which
neither the teacher nor any student trains on; the rest of the test split measures, once per arm.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import torch

from . import config, data, losses, models, train

LOADER_SEED = 0  # every run of the study sees the same batches (order, flips, shifts): the teacher runs once
ARMS = ("hard", "blended", "label smoothing", "shuffled teacher")
BENCH_DIR = config.ROOT / "bench" / "results"


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
    alpha: float = 0.1  # weight of the hard-label term (T and alpha: chosen on validation, bench/README.md)
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
    return BENCH_DIR / ("cpu" if profile == "quick" else "gpu") / f"distill_study_lr_{profile}.json"


def get_study(profile: str) -> Study:
    """The study of this profile, with each arm's learning rate read from the validation benchmark's JSON."""
    path = lr_choice_file(profile)
    chosen = json.loads(path.read_text())["chosen_lr"] if path.exists() else {}
    return replace(STUDIES[profile], lr={arm: chosen.get(arm, DEFAULT_LR) for arm in ARMS})


def split(cifar: data.CIFAR10, study: Study) -> tuple[data.CIFAR10, tuple, tuple]:
    """(labelled data with the measuring test split, (val images, labels), (test images, labels))."""
    rest, val_x, val_y = cifar.split_test(study.val_per_class, seed=7)
    labelled = rest.subset(study.labelled_per_class, study.test_per_class, seed=0)
    return labelled, (val_x, val_y), (labelled.test_images, labelled.test_labels)


def new_student(seed: int, images: torch.Tensor) -> models.Net:
    """The student every arm of this seed starts from: same seed, same initial weights."""
    config.set_seed(1000 + seed)
    return models.make_student(whiten_with=images).to(images.device, memory_format=data.MEMORY_FORMAT)


def loader(images: torch.Tensor, labels: torch.Tensor, batch_size: int) -> data.Loader:
    return data.Loader(images, labels, batch_size=batch_size, seed=LOADER_SEED)


class ShuffledTeacher:
    """The teacher's logits with each row's wrong classes permuted (losses.shuffle_wrong_classes):
    the same top class and softness, no class structure. Seeded: a run's permutations repeat."""

    def __init__(self, teacher, seed: int):
        self.teacher, self.generator = teacher, torch.Generator().manual_seed(seed)

    def eval(self) -> "ShuffledTeacher":
        self.teacher.eval()
        return self

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return losses.shuffle_wrong_classes(self.teacher(x), self.generator)


def matched_smoothing(teacher_logits: torch.Tensor, T: float) -> float:
    """Label smoothing whose targets are as soft as the teacher's at temperature T (mean entropy, nats)."""
    mean_entropy = losses.entropy(losses.softmax_with_temperature(teacher_logits, T)).mean().item()
    return losses.smoothing_for_entropy(mean_entropy, teacher_logits.shape[1])


def arm_spec(arm: str, study: Study, smoothing: float, cache: train.CachedTeacher, seed: int):
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
              cache: train.CachedTeacher, lr: float | None = None) -> tuple[models.Net, train.History]:
    """Train seed `seed`'s student of `arm` on the labelled images with train.fit: (student in eval mode, history)."""
    loss_fn, teacher = arm_spec(arm, study, smoothing, cache, seed)
    student = new_student(seed, labelled.train_images)
    cache.rewind()  # every run replays the same batches from the first
    history = train.fit(student, loader(labelled.train_images, labelled.train_labels, study.batch_size), loss_fn,
                        cfg=train.STUDENT_RECIPE, teacher=teacher, epochs=study.epochs, lr=lr or study.lr[arm],
                        verbose=False)
    return student, history
