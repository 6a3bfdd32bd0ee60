"""Run profile, device choice, seeding and paths: the settings every notebook shares."""
from __future__ import annotations

import os
import random
import warnings
from pathlib import Path

import numpy as np
import torch
import torchvision

# quick: CPU laptops and CI, minutes; full: a CUDA GPU, the real recipe; demo: the quick profile with its long
# cells replayed from a recorded quick run (course_utils.replay), for a live demo in seconds
PROFILES = ("quick", "full", "demo")

ROOT = Path(__file__).resolve().parent.parent  # the course's top folder


def env_folder(variable: str, default: Path) -> Path:
    """The folder an environment variable names (`~` and $VARIABLES expanded), else `default`. Set but empty counts
    as unset: `export COURSE_WORK_DIR=$WORK` with WORK unset gives an empty one, which would otherwise be `.`, the
    kernel's folder (notebooks/), and fill it with caches."""
    value = os.environ.get(variable, "").strip()
    return Path(os.path.expandvars(value)).expanduser() if value else Path(default)


DATA_DIR = env_folder("COURSE_DATA_DIR", ROOT / "data")  # CIFAR-10: may be a read-only copy shared by a room
WORK_DIR = env_folder("COURSE_WORK_DIR", ROOT / "data")  # what the course writes: caches, checkpoints, results
PRETRAINED_DIR = ROOT / "data" / "pretrained"  # shipped artefacts (tracked in git)
CHECKPOINT_DIR = WORK_DIR / "checkpoints"  # what the notebooks train and save


def get_device(prefer: str | None = None) -> torch.device:
    """The best device here: cuda, then mps, then cpu (`prefer` or COURSE_DEVICE overrides)."""
    name = prefer or os.environ.get("COURSE_DEVICE", "").strip()
    if name:
        return _checked_device(name, "COURSE_DEVICE" if not prefer else "prefer")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _available() -> list[str]:
    names = ["cpu"] + [f"cuda:{i}" if i else "cuda" for i in range(torch.cuda.device_count())]
    return names + (["mps"] if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available() else [])


def _checked_device(name: str, what: str) -> torch.device:
    """torch.device(name) when this machine has it, else a ValueError that lists the devices it has."""
    fix = f"This machine has {', '.join(_available())}: set {what} to one of them, or unset it to choose automatically."
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ValueError(f"{what}={name!r} is not a device PyTorch knows (cpu, cuda, cuda:1, mps, ...). {fix}") from err
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"{what}={name!r}, but there is no such CUDA GPU here. {fix}")
    if device.type == "mps" and str(device) not in _available():
        raise ValueError(f"{what}={name!r}, but Apple's MPS is not available here. {fix}")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{what}={name!r}: the course runs on cpu, cuda or mps. {fix}")
    return device


def get_profile(device: torch.device | None = None) -> str:
    """'full' with CUDA, else 'quick'; the environment variable COURSE_PROFILE overrides."""
    name = os.environ.get("COURSE_PROFILE", "").strip().casefold()
    if name:
        if name not in PROFILES:
            raise ValueError(
                f"COURSE_PROFILE must be one of {PROFILES}, got {name!r}. "
                "Unset it to choose automatically (full with a CUDA GPU, quick otherwise)."
            )
        if name == "full":
            _warn_full_without_cuda(torch.device(device or get_device()))
        return name
    device = device or get_device()
    return "full" if torch.device(device).type == "cuda" else "quick"


class SlowProfileWarning(UserWarning):
    """The full profile chosen on a machine without a CUDA GPU: hours of work where the quick profile takes minutes."""


def _warn_full_without_cuda(device: torch.device) -> None:
    if device.type != "cuda":
        warnings.warn(f"COURSE_PROFILE=full runs the GPU recipe (every training image, the full number of epochs, dozens "
                      f"of students), but this run is on {device}, without a CUDA GPU: expect "
                      "hours per notebook. To run the quick profile (minutes on a CPU), unset COURSE_PROFILE (or set "
                      "COURSE_PROFILE=quick) and restart the kernel; keep full only if you mean to wait.",
                      SlowProfileWarning, stacklevel=3)


def study_profile(profile: str) -> str:
    """The profile whose settings a study uses: the demo replays the quick run, so it has the quick settings."""
    return "quick" if profile == "demo" else profile


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def describe() -> dict:
    """What the course sees on this machine: device, profile, versions."""
    device = get_device()
    info = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else device.type,
        "profile": get_profile(device),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cpu_threads": torch.get_num_threads(),
        "data_dir": str(DATA_DIR),
        "work_dir": str(WORK_DIR),
    }
    return info
