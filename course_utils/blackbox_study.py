"""Notebooks 04 and 04b's study, defined once: its parameters per profile, the query stream, and the one
function that trains a copy of the teacher from its answers. Both notebooks and bench/budget_steps.py
use it.

Every copy of one seed starts from the same initial weights and sees the same batches, whatever its
targets, so comparisons between exposures are paired by seed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import config, data, models, train
from .copier import student_loss


@dataclass
class BlackBoxStudy:
    budgets: tuple              # queries bought per point of the curves: the first b answers of one query stream
    exposures: tuple            # exposures whose students are trained ("text" is "label" once parsed)
    seeds: tuple                # student seeds, the same for every exposure: paired comparisons
    batch_size: int             # student images per step (at most the budget; the learning rate scales with it)
    lr: float                   # peak learning rate at batch 1024 of the students (04b, section 2: the teacher's recipe)
    epochs: float               # every student trains this many passes over its transfer set ...
    min_steps: int              # ... but at least this many steps (a small transfer set is seen many times)
    test_per_class: int         # test images per class for accuracy and fidelity; the rest of the test split is
                                # the pool of images the teacher never saw (section 5b)
    shift_budget: int           # queries per transfer set in section 5, and for the defences of notebook 04b
    unseen_budget: int          # queries of section 5b, sent from that pool (a budget of the curves: paired with them)
    quality_epochs: tuple       # training epochs of the cheaper teachers of notebook 04b, section 1
    quality_widths: tuple       # their architecture (channels of the three blocks)
    quality_train_per_class: int | None  # labelled images per class they learn from (None: all 5,000)
    quality_budget: int         # queries each teacher of notebook 04b, section 1 answers
    twin_course_teacher: bool   # train a second course teacher (another seed) for the fidelity ceiling (GPU seconds)
    capacity_epochs: float | None  # training epochs of the copies of 04b, section 2 (None: as every student, steps_for)
    capacity_seeds: tuple       # their seeds
    k: int = 3                  # classes a "top_k" answer shows
    T: float = 2.0              # temperature of every soft target (probs, top_k, logits), fixed in advance
    price_per_1k: float = 1.0   # an illustrative price in dollars per 1,000 queries (no real API's price)
    stream_seed: int = 0        # the order in which training images are sent to the API


STUDIES = {
    # one GPU: half the test set (the other half: images the teacher never saw), budgets up to all 50,000
    # training images, teacher-sized cheap teachers
    "full": BlackBoxStudy(budgets=(1_000, 2_000, 5_000, 10_000, 20_000, 50_000),
                          exposures=("logits", "probs", "top_k", "label"), seeds=(0, 1, 2),
                          batch_size=1024, lr=train.STUDENT_RECIPE.lr, epochs=10, min_steps=200, test_per_class=500,
                          shift_budget=20_000, unseen_budget=5_000, quality_epochs=(1, 2, 4),
                          quality_widths=models.TEACHER_WIDTHS, quality_train_per_class=None, quality_budget=50_000,
                          twin_course_teacher=True,
                          capacity_epochs=train.TEACHER_RECIPE.epochs, capacity_seeds=(0, 1, 2)),
    # a CPU: the teacher answers a few hundred images/s and a student trains ~1,000-2,400 images/s,
    # so small budgets and short runs
    "quick": BlackBoxStudy(budgets=(250, 1_000, 3_000), exposures=("probs", "top_k", "label"), seeds=(0, 1),
                           batch_size=128, lr=train.TEACHER_RECIPE.lr, epochs=3, min_steps=50, test_per_class=100,
                           shift_budget=1_000, unseen_budget=1_000, quality_epochs=(0.5, 2),
                           quality_widths=models.STUDENT_WIDTHS, quality_train_per_class=400, quality_budget=1_000,
                           twin_course_teacher=False,
                           capacity_epochs=None, capacity_seeds=(0,)),
}


def get_study(profile: str) -> BlackBoxStudy:
    study = STUDIES[config.study_profile(profile)]
    assert {study.shift_budget, study.quality_budget, study.unseen_budget} <= set(study.budgets)
    assert study.unseen_budget <= 10 * (1000 - study.test_per_class), "the unseen pool holds the unseen budget"
    return study


def query_stream(num_images: int, n: int, seed: int = 0) -> torch.Tensor:
    """Positions (n,) of the first n images of a query stream: the copier sends its num_images
    unlabelled images to the API in one fixed random order (seed), so a budget of b queries buys
    the first b of them, and a larger budget contains every smaller one."""
    if not 0 < n <= num_images:
        raise ValueError(f"A stream of n queries from {num_images:,d} images needs 0 < n <= {num_images:,d}; "
                         f"got n={n:,d}. Lower the budget, or add images to the transfer set.")
    return torch.randperm(num_images, generator=torch.Generator().manual_seed(seed))[:n]


def steps_for(budget: int, study: BlackBoxStudy) -> int:
    """Training steps of a copy with `budget` answers: `study.epochs` passes over them at batches of
    min(batch_size, budget) images, and at least `study.min_steps` (a small transfer set is seen many times)."""
    return max(study.min_steps, math.ceil(study.epochs * budget / min(study.batch_size, budget)))


def train_copy(images: torch.Tensor, targets: torch.Tensor, seed: int, study: BlackBoxStudy, *,
               widths=models.STUDENT_WIDTHS, cfg: train.TrainConfig | None = None, epochs: float | None = None):
    """Train a copy (a models.Net of `widths`) on (images -> targets) with train.fit and
    copier.student_loss(study.T); targets are labels (N,) or probabilities (N, C) from copier.to_targets().

    Default: the student recipe at study.lr for steps_for(len(images), study) steps. With `cfg` (for
    example the teacher's recipe) its own learning rate is kept; `epochs` replaces steps_for.
    Returns (model, train.History)."""
    loader = data.Loader(images, targets, batch_size=min(study.batch_size, len(images)), seed=seed)
    config.set_seed(1000 + seed)  # the same initial weights for every copy of this seed
    net = models.make_net(widths, whiten_with=images).to(images.device)
    overrides = {} if cfg else {"lr": study.lr}
    history = train.fit(net, loader, student_loss(study.T), cfg=cfg or train.STUDENT_RECIPE,
                        epochs=epochs if epochs is not None else steps_for(len(images), study) / len(loader),
                        verbose=False, **overrides)
    return net, history


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
    b = np.log(np.asarray(budgets, dtype=float))
    return float(np.interp(np.log(max(float(queries), 1.0)), b, np.asarray(values, dtype=float)))
