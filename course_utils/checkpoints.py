"""Save and load models with their provenance; load the teacher shipped with the course."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path

import torch

from . import config, models

PRETRAINED_TEACHER = config.PRETRAINED_DIR / "teacher.pt"  # fp16 weights + provenance, in git
TEACHER_CHECKPOINT = config.CHECKPOINT_DIR / "teacher.pt"  # what notebook 02 trains and saves


def arch(model: models.Net) -> dict:
    """What rebuilds the model: stored beside its weights in a checkpoint."""
    cfg = asdict(model.cfg)
    cfg["widths"] = list(cfg["widths"])
    return cfg


def from_arch(spec: dict) -> models.Net:
    """The model save() described, with fresh weights."""
    spec = dict(spec)
    spec["widths"] = tuple(spec["widths"])
    return models.Net(models.NetConfig(**spec))


def save(model: models.Net, path: Path | str, half: bool = False, **provenance) -> Path:
    """Write weights, architecture and provenance (accuracy, data copy, profile, ...) to `path`.

    half=True stores float weights in fp16 (half the size; accuracy unchanged to ~0.1 point).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu()
             for k, v in model.state_dict().items()}
    meta = {"arch": arch(model), "date": dt.date.today().isoformat(),
            "torch": str(torch.__version__), **provenance}
    torch.save({"state_dict": state, "meta": meta}, path)
    return path


def load(path: Path | str, device=None) -> tuple[models.Net, dict]:
    """(model in eval mode on `device`, provenance dict) from a file written by save()."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}. Train and save one first (notebook 02 saves the teacher), "
                                "or use load_pretrained_teacher() for the one shipped with the course.")
    blob = torch.load(path, map_location="cpu", weights_only=True)  # weights only: no code runs on load
    if not isinstance(blob, dict) or "state_dict" not in blob or "meta" not in blob:
        raise ValueError(f"{path} is not a course checkpoint (expected keys 'state_dict' and 'meta', "
                         f"got {sorted(blob) if isinstance(blob, dict) else type(blob).__name__}).")
    model = from_arch(blob["meta"]["arch"])
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()})
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
