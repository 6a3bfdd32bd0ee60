"""The demo profile: a long computation replays what a recorded quick run computed, instead of computing it again.

A study function that takes long carries a decorator:

    @replay.cached("07_students_{kind}")
    def train_students(kind, study, device): ...

- `quick` and `full`: the call runs the function and returns its value. With COURSE_RECORD_REPLAY=1 (quick
  profile only) it also stores the value in data/replay/<name>.pt, shipped with the course like the teacher.
- `demo`: the call loads that stored value and says so: which run measured it, on what, when, in how long.
  Nothing is trained.

So an instructor's live demo shows the same numbers and figures as the quick run, in seconds, and the page says
which of them are replayed rather than measured.

The files hold tensors and plain containers only, and are read with `torch.load(weights_only=True)`: opening a
replay file runs no code. Models are stored as their config and state dict, records (dataclasses of the course)
as their fields.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import os
import pickle
import time
import zipfile
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np
import torch

from . import config, files

REPLAY_DIR = config.ROOT / "data" / "replay"  # shipped (tracked in git), like data/pretrained
FORMAT = 2  # the layout of a replay file (1: a pickle of the value itself, loaded unsafely; retired)
T = TypeVar("T")

RECORD_FIX = ("Record it again with COURSE_PROFILE=quick COURSE_RECORD_REPLAY=1 (make record-demo), or run this "
              "notebook in the quick profile (COURSE_PROFILE=quick).")


def path_of(name: str) -> Path:
    return REPLAY_DIR / f"{name}.pt"


def cached(name: str):
    """Decorator: run the function (quick, full; recorded when asked) or replay its recorded value (demo).
    `name` may hold {argument} fields, filled from the call's arguments."""
    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def run_or_replay(*args, **kwargs) -> T:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            key = name.format(**bound.arguments)
            device = bound.arguments.get("device")
            return run(key, lambda: fn(*args, **kwargs), config.get_profile(), device)

        run_or_replay.replay_name = name
        return run_or_replay
    return wrap


def run(name: str, compute: Callable[[], T], profile: str, device=None) -> T:
    """compute() in the quick and full profiles (recorded when COURSE_RECORD_REPLAY=1); its stored value in demo."""
    if profile == "demo":
        return load(name, device)
    start = time.perf_counter()
    value = compute()
    if os.environ.get("COURSE_RECORD_REPLAY") == "1":
        if profile != "quick":
            raise ValueError(f"COURSE_RECORD_REPLAY=1 records the quick profile's values, but this run is {profile!r}: "
                             "run with COURSE_PROFILE=quick to record the demo's values.")
        record(name, value, seconds=time.perf_counter() - start)
    return value


def record(name: str, value, seconds: float | None = None) -> Path:
    """Store `value` (tensors moved to the CPU) with where, when and how fast it was measured; written whole or not at all."""
    info = config.describe()
    stored = {"format": FORMAT, "value": encode(value), "device": str(info["device_name"]),
              "torch": str(info["torch"]), "threads": int(info["cpu_threads"]), "date": time.strftime("%Y-%m-%d"),
              "seconds": None if seconds is None else float(seconds)}
    return files.write_atomic(path_of(name), lambda tmp: torch.save(stored, tmp))


def load(name: str, device=None):
    """The stored value of `name` (tensors and models on `device`), after printing that it is replayed."""
    path = path_of(name)
    if not path.exists():
        raise FileNotFoundError(f"the demo profile replays {path}, which is missing. Expected it shipped with the "
                                f"course. {RECORD_FIX}")
    stored = read(path)
    took = "" if stored.get("seconds") is None else f", computed in {stored['seconds']:.0f} s"
    print(f"[demo] replayed, not measured now: {name}, from the quick run on {stored['device']} "
          f"({stored['date']}, torch {stored['torch']}{took})")
    try:
        return decode(stored["value"], device or "cpu")
    except (TypeError, KeyError, AttributeError, ImportError, RuntimeError) as err:  # recorded by another version
        raise ValueError(f"the replay file {path} was recorded by another version of the course: its value no longer "
                         f"fits the code ({type(err).__name__}: {str(err)[:200]}). {RECORD_FIX}") from err


def read(path: Path) -> dict:
    """A replay file's stored dict, loaded safely; a damaged, foreign or old file gets a message naming it and the fix."""
    head = path.read_bytes()[:200]
    if not head:
        raise ValueError(f"the replay file {path} is empty (an interrupted copy?). {RECORD_FIX}")
    if head.startswith(b"version https://git-lfs"):
        raise ValueError(f"the replay file {path} is a Git LFS pointer, not the file: fetch it with `git lfs pull`. "
                         f"Or: {RECORD_FIX}")
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(f"the replay file {path} holds more than tensors and plain values (a file of an older course "
                         f"version, or not a replay file), so it is not opened. {RECORD_FIX}") from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(f"the replay file {path} is damaged or truncated ({type(err).__name__}). {RECORD_FIX}") from err
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        found = stored.get("format") if isinstance(stored, dict) else type(stored).__name__
        raise ValueError(f"the replay file {path} has layout {found!r}, and this course reads layout {FORMAT}. {RECORD_FIX}")
    return stored


# -- values to tensors and plain containers, and back ----------------------------------------------------------------

def _qualname(obj) -> str:
    cls = type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def _course_class(path: str):
    """The class at 'course_utils.module:Name'; nothing outside course_utils is ever imported by a replay file."""
    module, _, qualname = path.partition(":")
    if not (module == "course_utils" or module.startswith("course_utils.")):
        raise ValueError(f"a replay file names the class {path!r}, which is not the course's; refusing to build it.")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def encode(value, where: str = "value"):
    """`value` as tensors (on the CPU), numbers, strings, None and containers of them, ready for torch.save."""
    if value is None or isinstance(value, bool):
        return value
    for plain in (int, float, str):  # subclasses (torch's version string, an IntEnum) become the plain type
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu").clone()
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"replay cannot store the object array at {where}; use numbers or tensors.")
        return {"__ndarray__": torch.from_numpy(np.ascontiguousarray(value).copy())}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.nn.Module):
        cfg = getattr(value, "cfg", None)
        if not (type(value).__module__.startswith("course_utils") and dataclasses.is_dataclass(cfg)):
            raise TypeError(f"replay stores the course's models (those with a .cfg dataclass, such as models.Net and "
                            f"lm.GPT), got a {type(value).__name__} at {where}. Return its predictions or a course model.")
        state = {k: v.detach().to("cpu").clone() for k, v in value.state_dict().items()}
        return {"__model__": _qualname(value), "cfg": encode(cfg, f"{where}.cfg"), "state": state,
                "training": value.training}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not type(value).__module__.startswith("course_utils"):
            raise TypeError(f"replay stores dataclasses of course_utils, got a {type(value).__name__} at {where}.")
        fields = {f.name: encode(getattr(value, f.name), f"{where}.{f.name}") for f in dataclasses.fields(value)}
        return {"__dataclass__": _qualname(value), "fields": fields}
    if isinstance(value, dict):
        return {k: encode(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        raise TypeError(f"replay does not store named tuples ({type(value).__name__} at {where}); use a dataclass.")
    if isinstance(value, (list, tuple)):
        return type(value)(encode(v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).removeprefix("torch.")}
    raise TypeError(f"replay cannot store a {type(value).__name__} (at {where}): it stores tensors, numbers, strings, "
                    "None, numpy arrays, lists, tuples, dicts, the course's dataclasses and models.")


def decode(value, device="cpu"):
    """The value `encode` stored, with tensors and models on `device`."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        if "__ndarray__" in value and len(value) == 1:
            return value["__ndarray__"].numpy()
        if "__dtype__" in value and len(value) == 1:
            return getattr(torch, value["__dtype__"])
        if "__model__" in value:
            model = _course_class(value["__model__"])(decode(value["cfg"]))
            model.load_state_dict(value["state"])
            return model.train(value["training"]).to(device)
        if "__dataclass__" in value:
            cls = _course_class(value["__dataclass__"])
            return cls(**{k: decode(v, device) for k, v in value["fields"].items()})
        return {k: decode(v, device) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(decode(v, device) for v in value)
    return value
