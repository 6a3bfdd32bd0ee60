"""Notebook 02's study, defined once: its settings per profile (`settings`), the check that the page's loop is
`train.fit`'s (`check_loop_is_fit`), the choice between the teacher trained here and the shipped one (`choose`),
the near-miss images of the top-3 gallery (`examples`), and what the notebook saves (`save`).

The full profile (a GPU) trains the teacher from scratch and saves it for notebooks 03-05; quick and demo (a CPU)
run the same training briefly as a demonstration, then use the teacher shipped with the course.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from . import checkpoints, config, data, models, results, train


@dataclass
class TeacherRun:
    train_from_scratch: bool  # full: train the teacher here; quick: a short demo, then the shipped teacher
    epochs: float             # passes over the training images
    train_per_class: int | None  # training images per class (None: all 5,000)
    test_per_class: int | None   # test images per class (None: all 1,000)
    batch_size: int           # images per step
    seed: int = 0             # weights, data order and augmentation all follow this seed


SETTINGS = {
    "full": TeacherRun(train_from_scratch=True, epochs=train.TEACHER_RECIPE.epochs, train_per_class=None,
                       test_per_class=None, batch_size=1024),
    # a CPU trains the teacher at a few hundred images/s at most: a 2-epoch demo on 2,000 images
    "quick": TeacherRun(train_from_scratch=False, epochs=2, train_per_class=200, test_per_class=200, batch_size=256),
    # a live presentation: one pass over 500 images, just to see the loop run, then the shipped teacher
    "demo": TeacherRun(train_from_scratch=False, epochs=1, train_per_class=50, test_per_class=200, batch_size=250),
}

MIN_ACC = 0.85  # the shipped teacher reaches about 90% on the JPEG copy, a full run more: under this, something broke


def settings(profile: str) -> TeacherRun:
    """The run of this profile: full trains the teacher; quick and demo train briefly, then use the shipped one."""
    if profile not in SETTINGS:
        raise ValueError(f"no teacher run for the profile {profile!r}: expected one of {sorted(SETTINGS)} "
                         "(COURSE_PROFILE, or leave it unset to choose by the device).")
    return replace(SETTINGS[profile])


def _fit(model: nn.Module, loader: data.Loader, cfg: train.TrainConfig) -> nn.Module:
    train.fit(model, loader, cfg=cfg, verbose=False)
    return model


def check_loop_is_fit(train_plain: Callable, cifar: data.CIFAR10, seed: int = 0, n_images: int = 512,
                      batch_size: int = 128) -> bool:
    """Train one fresh teacher twice, from the same start on the same batches (one pass over `n_images` training
    images): with `train_plain(model, loader, cfg)`, the page's loop, and with train.fit. Both start from a net in
    data.MEMORY_FORMAT (channels_last), the layout train.fit stores a model in. Prints whether the weights
    are identical, bit for bit; raises when they are not."""
    one_pass = replace(train.TEACHER_RECIPE, epochs=1)
    nets = []
    for trainer in (train_plain, _fit):  # the same start, the same batches
        config.set_seed(seed)
        net = models.make_teacher(whiten_with=cifar.train_images)
        net = net.to(memory_format=data.MEMORY_FORMAT)  # as fit stores it
        small = data.Loader(cifar.train_images[:n_images], cifar.train_labels[:n_images], batch_size=batch_size,
                           seed=seed)
        nets.append(trainer(net, small, one_pass))
    pairs = zip(nets[0].state_dict().items(), nets[1].state_dict().items())
    differ = [name for (name, a), (_, b) in pairs if not torch.equal(a, b)]
    print(f"the loop above and train.fit, one pass over {n_images} images: identical weights: {not differ}")
    if differ:
        raise AssertionError(f"the loop and train.fit should give the same weights bit for bit; {len(differ)} tensors "
                             f"differ ({differ[:3]}). Compare the loop with train.fit line by line (the optimiser, "
                             "the schedule's step, the whitening bias, autocast), or run the loop cell again.")
    return True


def choose(fresh: nn.Module, history: train.History, run: TeacherRun, cifar: data.CIFAR10, profile: str,
           device=None) -> tuple[nn.Module, dict]:
    """(the teacher used from here on, its provenance), after saying how long the training took: in the full
    profile `fresh`, trained here (`history` is what fit measured); otherwise the teacher shipped with the course."""
    device_name = config.describe()["device_name"]
    print(f"training took {history.train_seconds:.1f} s ({history.images_per_second:,.0f} images/s) on {device_name}")
    if run.train_from_scratch:
        return fresh, {"data": cifar.source, "profile": profile, "epochs": run.epochs, "seed": run.seed,
                       "train_seconds": round(history.train_seconds, 2), "device": device_name,
                       "command": "notebooks/02_train_the_teacher.ipynb"}
    teacher, provenance = checkpoints.load_pretrained_teacher(device)
    reached = f"{history.test_acc[-1]:.1%}" if history.test_acc else "(not measured)"
    print(f"{profile} profile: the demo teacher reached {reached}; from here on we use the shipped teacher "
          f"({provenance['epochs']:g} epochs on {provenance['device']}, {provenance['train_seconds']:.1f} s).")
    return teacher, provenance


def examples(probs: torch.Tensor, labels: torch.Tensor, pairs: list[tuple[str, str]], n: int = 2) -> torch.Tensor:
    """Indices of test images for the gallery: per (true class, look-alike) pair, the `n` images of the true class
    answered correctly where the look-alike gets the most probability. `probs`: (N, C) test probabilities."""
    if probs.ndim != 2 or len(probs) != len(labels):
        raise ValueError(f"expected probs (N, C) and labels (N,) of the same N, got {tuple(probs.shape)} and "
                         f"{tuple(labels.shape)}.")
    unknown = sorted({c for pair in pairs for c in pair} - set(data.CLASSES))
    if unknown:
        raise ValueError(f"unknown classes {unknown}: the pairs name CIFAR-10 classes, one of {data.CLASSES}.")
    pred, picked = probs.argmax(1), []
    for true_class, runner_up in pairs:
        t, r = data.CLASSES.index(true_class), data.CLASSES.index(runner_up)
        candidates = torch.nonzero((labels == t) & (pred == t)).flatten()  # right answers on this class
        picked.append(candidates[probs[candidates, r].argsort(descending=True)[:n]])
    return torch.cat(picked)


def save(teacher: nn.Module, provenance: dict, run: TeacherRun, cifar: data.CIFAR10, history: train.History, *,
         acc: float, acc_tta: float, profile: str, checkpoint: Path = checkpoints.TEACHER_CHECKPOINT,
         min_acc: float = MIN_ACC) -> dict:
    """Save the teacher trained here (full profile) to `checkpoint` with its provenance and accuracies, then the
    notebook's figures as results "02_teacher" (returned). Refuses a teacher under `min_acc` test accuracy."""
    if not acc > min_acc:
        raise ValueError(f"the teacher should reach about 90% on this version of the data (at least {min_acc:.0%}), "
                         f"got {acc:.1%}: check the data copy ({cifar.source}) and the training log above.")
    if run.train_from_scratch:
        path = checkpoints.save(teacher, checkpoint, test_acc=acc, test_acc_flip_tta=acc_tta, **provenance)
        print("saved", path)
    else:
        print(f"{profile} profile: no checkpoint saved; notebooks 03 to 05 use "
              + ("your saved teacher" if Path(checkpoint).exists() else "the shipped teacher"))
    # test_acc, train_seconds and epochs describe the teacher used from here on (in quick: the shipped one);
    # demo_* the short run of section 3
    record = {"test_acc": acc, "test_acc_flip_tta": acc_tta, "data": cifar.source,
              "train_seconds": provenance.get("train_seconds"), "epochs": provenance.get("epochs"),
              "teacher_device": provenance.get("device"), "trained_here": run.train_from_scratch,
              "n_test": len(cifar.test_images), "demo_test_acc": history.test_acc[-1] if history.test_acc else None,
              "demo_train_seconds": history.train_seconds, "demo_epochs": run.epochs}
    results.save("02_teacher", record)
    return record
