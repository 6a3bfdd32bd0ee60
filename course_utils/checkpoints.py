"""Save and load models (the conv nets and the tiny GPTs) with their provenance; load the teachers shipped with the
course."""
from __future__ import annotations

import datetime as dt
import numbers
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


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(64)
    except OSError as err:
        raise CheckpointError(f"{path} cannot be read ({type(err).__name__}: {err.strerror or err}). " + _fix(path)) from err


def _looks_like(head: bytes) -> str:
    """What a file that is not a zip archive seems to be, from its first bytes."""
    if not head:
        return ", empty"
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml", b"<")):
        return ", a web page: a browser's 'save as' or a download of the page around the file, not the file itself"
    if head.startswith(b"version https://git-lfs"):
        return ", a Git LFS pointer: fetch the file with `git lfs pull`"
    return ""


def save(model: models.Net, path: Path | str, half: bool = False, **provenance) -> Path:
    """Write weights, architecture and provenance (accuracy, data copy, profile, ...) to `path`, whole or not
    at all (files.write_atomic). half=True stores float weights in fp16 (half the size; accuracy unchanged
    to ~0.1 point)."""
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu()
             for k, v in model.state_dict().items()}
    meta = {"arch": arch(model), "date": dt.date.today().isoformat(),
            "torch": str(torch.__version__), **provenance}
    return files.write_atomic(path, lambda tmp: torch.save({"state_dict": state, "meta": meta}, tmp))


def _read(path: Path) -> tuple[dict, dict]:
    """(the checkpoint's blob, its state dict), read with weights_only=True; clear errors when it cannot be."""
    if not path.exists():
        if path.resolve() in (PRETRAINED_TEACHER.resolve(), PRETRAINED_LM_TEACHER.resolve()):
            raise FileNotFoundError(f"The teacher shipped with the course is missing ({path}): the clone is partial. "
                                    + _fix(path))
        raise FileNotFoundError(f"No checkpoint at {path}. Train and save one first (notebook 02 saves the teacher), "
                                "or use load_pretrained_teacher() for the one shipped with the course.")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file. " + _fix(path))
    head = _head(path)
    if not head.startswith(b"PK\x03\x04"):  # torch.save writes a zip archive; anything else is not a checkpoint
        raise CheckpointError(f"{path} is truncated, corrupt or not a PyTorch file ({path.stat().st_size:,d} bytes"
                              f"{_looks_like(head)}; an interrupted download or copy?): a checkpoint is a zip archive "
                              "written by torch.save. " + _fix(path))
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
    state = blob["state_dict"]
    odd = sorted(str(k) for k, v in state.items() if not isinstance(v, torch.Tensor)) if isinstance(state, dict) else None
    if odd is None or odd:
        raise CheckpointError(f"{path} is not a course checkpoint: its state_dict should map names to tensors, but "
                              f"{'it is a ' + type(state).__name__ if odd is None else f'{odd[:3]} hold other values'}. "
                              + _fix(path))
    return blob, state


def _weights(model, state: dict, path: Path, family: str):
    """`model` (a fresh models.Net or lm.TinyGPT) with the checkpoint's weights, stored in fp16 or fp32; clear
    errors for weights of another kind, NaN or inf weights, and weights that do not fit."""
    try:
        expected = model.state_dict()
        kinds = sorted(k for k, v in state.items() if k in expected
                       and expected[k].is_floating_point() != v.is_floating_point())
        if kinds:
            raise CheckpointError(f"{path} holds {state[kinds[0]].dtype} values for {kinds[0]} (and {len(kinds) - 1} "
                                  f"more) where the model keeps {expected[kinds[0]].dtype}: weights quantised or saved "
                                  "by another tool, which loading would silently convert. " + _fix(path))
        bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if bad:
            raise CheckpointError(f"{path} holds NaN or inf weights ({bad[0]}, {len(bad)} tensors in all): it was saved "
                                  "from a run that diverged, and would predict one class for everything. Train again "
                                  "with a lower learning rate. " + _fix(path))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except (TypeError, KeyError, RuntimeError) as err:  # weights that do not fit the architecture
        raise _foreign(err, path, family) from err
    return model


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
    blob, state = _read(path)
    try:
        model = from_arch(blob["meta"]["arch"])
    except (TypeError, KeyError, RuntimeError) as err:  # an unknown architecture
        raise _foreign(err, path, "models.Net") from err
    model = _weights(model, state, path, "models.Net")
    model.to(device or config.get_device()).eval()
    return model, blob["meta"]


def load_lm(path: Path | str = PRETRAINED_LM_TEACHER, device=None) -> tuple[lm.TinyGPT, dict]:
    """(tiny GPT in eval mode on `device`, provenance dict) from a file written by save(); by default notebook 07's
    shipped teacher."""
    path = Path(path)
    blob, state = _read(path)
    try:
        model = lm.TinyGPT(lm.GPTConfig(**blob["meta"]["arch"]))
    except (TypeError, KeyError, RuntimeError, ValueError) as err:  # not a tiny GPT's config
        raise _foreign(err, path, "lm.TinyGPT") from err
    model = _weights(model, state, path, "lm.TinyGPT")
    model.to(device or config.get_device()).eval()
    return model, blob["meta"]


def load_pretrained_teacher(device=None) -> tuple[models.Net, dict]:
    """The teacher shipped in data/pretrained (trained with this library's full recipe)."""
    return load(PRETRAINED_TEACHER, device)


def describe(meta: dict) -> dict:
    """A checkpoint's provenance in three lines (accuracy, data, how it was trained), for show.fields."""
    def pct(key):
        value = meta.get(key)
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        return f"{value:.2%}" if real and value == value else "?"  # NaN (value != value) is shown as unknown

    epochs, seconds = meta.get("epochs"), meta.get("train_seconds")
    return {"test accuracy": f"{pct('test_acc')} (with flip test-time augmentation {pct('test_acc_flip_tta')})",
            "data": meta.get("data", "?"),
            "trained": (f"{epochs:g} epochs in {seconds:.1f} s on {meta.get('device', '?')} "
                        f"({meta.get('profile', '?')} profile), {meta.get('date', '?')}"
                        if isinstance(epochs, numbers.Real) and isinstance(seconds, numbers.Real)
                        else f"on {meta.get('device', '?')} ({meta.get('profile', '?')} profile)")}


def load_teacher(device=None, verbose: bool = True) -> tuple[models.Net, dict]:
    """The teacher notebook 02 saved, else the shipped pretrained one."""
    path = TEACHER_CHECKPOINT if TEACHER_CHECKPOINT.exists() else PRETRAINED_TEACHER
    model, meta = load(path, device)
    if verbose:
        acc = meta.get("test_acc")
        if acc is not None:  # a number, as save() stores it; anything else is shown as it is
            acc = f"{acc:.2%}" if isinstance(acc, numbers.Real) and not isinstance(acc, bool) else repr(acc)
        where = path.relative_to(config.ROOT) if path.is_relative_to(config.ROOT) else path
        print(f"teacher from {where}: {acc} test accuracy on {meta.get('data', '?')} "
              f"(trained in the {meta.get('profile', '?')} profile on {meta.get('device', '?')})"
              if acc is not None else f"teacher from {where}")
    return model, meta
