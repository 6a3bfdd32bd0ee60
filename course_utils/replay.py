"""The demo profile: a long cell replays what a recorded quick run computed, instead of computing it again.

A notebook's long computation goes through `run`:

    students = replay.run("03_students", train_students, PROFILE, device)

- `quick` and `full`: calls `train_students()` and returns its value. With COURSE_RECORD_REPLAY=1 (quick
  profile only) it also stores the value in data/replay/<name>.pt, shipped with the course like the teacher.
- `demo`: loads that stored value and says so: which run measured it, on what, and when. Nothing is trained.

So an instructor's live demo shows the same numbers and figures as the quick run, in seconds, and the page says
which of them are replayed rather than measured.
"""
from __future__ import annotations

import os
import time
from copy import deepcopy
from pathlib import Path
from typing import Callable, TypeVar

import torch

from . import config

REPLAY_DIR = config.ROOT / "data" / "replay"  # shipped (tracked in git), like data/pretrained
T = TypeVar("T")


def path_of(name: str) -> Path:
    return REPLAY_DIR / f"{name}.pt"


def run(name: str, compute: Callable[[], T], profile: str, device=None) -> T:
    """compute() in the quick and full profiles (recorded when COURSE_RECORD_REPLAY=1); its stored value in demo."""
    if profile == "demo":
        return load(name, device)
    value = compute()
    if os.environ.get("COURSE_RECORD_REPLAY") == "1":
        if profile != "quick":
            raise ValueError(f"COURSE_RECORD_REPLAY=1 records the quick profile's values, but this run is {profile!r}: "
                             "run with COURSE_PROFILE=quick to record the demo's values.")
        record(name, value)
    return value


def record(name: str, value) -> Path:
    """Store `value` (tensors moved to the CPU) with where and when it was measured."""
    REPLAY_DIR.mkdir(parents=True, exist_ok=True)
    info = config.describe()
    stored = {"value": _to(value, "cpu", copy=True), "device": info["device_name"], "torch": info["torch"],
              "date": time.strftime("%Y-%m-%d")}
    torch.save(stored, path_of(name))
    return path_of(name)


def load(name: str, device=None):
    """The stored value of `name` (tensors on `device`), after printing that it is replayed."""
    path = path_of(name)
    if not path.exists():
        raise FileNotFoundError(
            f"the demo profile replays {path}, which is missing. Expected it shipped with the "
            "course; record it with COURSE_PROFILE=quick COURSE_RECORD_REPLAY=1 (make record-demo), or run this "
            "notebook in the quick profile (COURSE_PROFILE=quick).")
    stored = torch.load(path, map_location="cpu", weights_only=False)  # the course's own file: models included
    print(f"[demo] replayed, not measured now: {name}, from the quick run on {stored['device']} "
          f"({stored['date']}, torch {stored['torch']})")
    return _to(stored["value"], device or "cpu")


def _to(value, device, copy: bool = False):
    """`value` with every tensor and model in it on `device` (dicts, lists and tuples walked; models copied
    first when `copy`, so that recording never moves the notebook's own model)."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, torch.nn.Module):
        return (deepcopy(value) if copy else value).to(device)
    if isinstance(value, dict):
        return {k: _to(v, device, copy) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_to(v, device, copy) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    return value
