"""Save and load models (the conv nets and the tiny GPTs) with their provenance; load the teachers shipped with the course."""
from __future__ import annotations

import datetime as dt
import pickle
from dataclasses import asdict
from pathlib import Path

import torch

from . import config, files, lm, models

PRETRAINED_TEACHER = config.PRETRAINED_DIR / "teacher.pt"  # fp16 weights + provenance, in git
PRETRAINED_LM_TEACHER = config.PRETRAINED_DIR / "lm_teacher.pt"  # notebook 07's tiny GPT teacher, in git
TEACHER_CHECKPOINT = config.CHECKPOINT_DIR / "teacher.pt"  # what notebook 02 trains and saves


def arch(model: models.Net | lm.TinyGPT) -> dict:
    """What rebuilds the model: stored beside its weights in a checkpoint."""
    cfg = asdict(model.cfg)
    if "widths" in cfg:
        cfg["widths"] = list(cfg["widths"])
    return cfg


def from_arch(spec: dict) -> models.Net:
    """The model save() described, with fresh weights."""
    spec = dict(spec)
    spec["widths"] = tuple(spec["widths"])
    return models.Net(models.NetConfig(**spec))


class CheckpointError(ValueError):
    """A checkpoint is truncated, corrupt, or not one of the course's; the message says how to get a good one."""


def _fix(path: Path) -> str:
    if path.resolve() == PRETRAINED_TEACHER.resolve():
        return "Restore the shipped teacher with `git checkout -- data/pretrained/teacher.pt` (or clone the course again)."
    if path.resolve() == PRETRAINED_LM_TEACHER.resolve():
        return ("Restore it with `git checkout -- data/pretrained/lm_teacher.pt` (or clone the course again); "
                "`python bench/onpolicy.py teacher` trains it again.")
    return (f"Delete {path} and save it again (notebook 02 trains and saves the teacher), or use "
            "checkpoints.load_pretrained_teacher(), the one shipped with the course.")


def save(model: models.Net, path: Path | str, half: bool = False, **provenance) -> Path:
    """Write weights, architecture and provenance (accuracy, data copy, profile, ...) to `path`, whole or not
    at all (files.write_atomic). half=True stores float weights in fp16 (half the size; accuracy unchanged
    to ~0.1 point)."""
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu()
             for k, v in model.state_dict().items()}
    meta = {"arch": arch(model), "date": dt.date.today().isoformat(),
            "torch": str(torch.__version__), **provenance}
    return files.write_atomic(path, lambda tmp: torch.save({"state_dict": state, "meta": meta}, tmp))


def _read(path: Path) -> dict:
    """The checkpoint's {"state_dict", "meta"}, read with weights_only=True; clear errors when it cannot be."""
    if not path.exists():
        if path.resolve() in (PRETRAINED_TEACHER.resolve(), PRETRAINED_LM_TEACHER.resolve()):
            raise FileNotFoundError(f"The teacher shipped with the course is missing ({path}): the clone is partial. "
                                    + _fix(path))
        raise FileNotFoundError(f"No checkpoint at {path}. Train and save one first (notebook 02 saves the teacher), "
                                "or use load_pretrained_teacher() for the one shipped with the course.")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)  # weights only: no code runs on load
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"{path} is not a course checkpoint: it holds Python objects beyond tensors and numbers "
                              "(a whole model saved with torch.save(model)?), which the course never loads, since "
                              "loading them can run code. " + _fix(path)) from err
    except Exception as err:  # RuntimeError (zip), EOFError (empty), KeyError (not a PyTorch file), ...
        raise CheckpointError(f"{path} is truncated, corrupt or not a PyTorch file ({path.stat().st_size:,d} bytes; an interrupted "
                              f"download or copy?): PyTorch cannot read it ({type(err).__name__}). " + _fix(path)) from err
    if not isinstance(blob, dict) or "state_dict" not in blob or "meta" not in blob or "arch" not in blob["meta"]:
        raise CheckpointError(f"{path} is not a course checkpoint (expected keys 'state_dict' and 'meta' with an "
                              f"'arch', got {sorted(blob) if isinstance(blob, dict) else type(blob).__name__}). "
                              + _fix(path))
    return blob


def _foreign(err: Exception, path: Path, family: str) -> CheckpointError:
    """The error for weights that do not fit the architecture they claim, with the first line that says why."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    first = next((line for line in lines if line.startswith(("Missing", "Unexpected", "size mismatch"))),
                 lines[0] if lines else "")[:200]
    return CheckpointError(f"{path} holds weights for another architecture than the course's {family} "
                           f"({type(err).__name__}: {first}). It was saved by another model or another version "
                           "of the course. " + _fix(path))


def load(path: Path | str, device=None) -> tuple[models.Net, dict]:
    """(model in eval mode on `device`, provenance dict) from a file written by save()."""
    path = Path(path)
    blob = _read(path)
    try:
        model = from_arch(blob["meta"]["arch"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()})
    except (TypeError, KeyError, RuntimeError) as err:  # an unknown architecture, or weights that do not fit it
        raise _foreign(err, path, "models.Net") from err
    model.to(device or config.get_device()).eval()
    return model, blob["meta"]


def load_lm(path: Path | str = PRETRAINED_LM_TEACHER, device=None) -> tuple[lm.TinyGPT, dict]:
    """(tiny GPT in eval mode on `device`, provenance dict) from a file written by save(); by default notebook 07's
    shipped teacher."""
    path = Path(path)
    blob = _read(path)
    try:
        model = lm.TinyGPT(lm.GPTConfig(**blob["meta"]["arch"]))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()})
    except (TypeError, KeyError, RuntimeError) as err:
        raise _foreign(err, path, "lm.TinyGPT") from err
    model.to(device or config.get_device()).eval()
    return model, blob["meta"]


def load_pretrained_teacher(device=None) -> tuple[models.Net, dict]:
    """The teacher shipped in data/pretrained (trained with this library's full recipe)."""
    return load(PRETRAINED_TEACHER, device)


def load_teacher(device=None, verbose: bool = True) -> tuple[models.Net, dict]:
    """The teacher notebook 02 saved, else the shipped pretrained one."""
    path = TEACHER_CHECKPOINT if TEACHER_CHECKPOINT.exists() else PRETRAINED_TEACHER
    model, meta = load(path, device)
    if verbose:
        acc = meta.get("test_acc")
        where = path.relative_to(config.ROOT) if path.is_relative_to(config.ROOT) else path
        print(f"teacher from {where}: {acc:.2%} test accuracy on {meta.get('data', '?')} "
              f"(trained in the {meta.get('profile', '?')} profile on {meta.get('device', '?')})"
              if acc is not None else f"teacher from {where}")
    return model, meta
