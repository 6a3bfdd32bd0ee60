"""Run profile, device choice, seeding and paths: the settings every notebook shares."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch
import torchvision

# quick: CPU laptops and CI, minutes; full: a CUDA GPU, the real recipe; demo: the quick profile with its long
# cells replayed from a recorded quick run (course_utils.replay), for a live demo in seconds
PROFILES = ("quick", "full", "demo")

ROOT = Path(__file__).resolve().parent.parent  # the course's top folder
DATA_DIR = Path(os.path.expandvars(os.environ.get("COURSE_DATA_DIR", ROOT / "data"))).expanduser()  # CIFAR-10: may be a read-only copy shared by a room
WORK_DIR = Path(os.path.expandvars(os.environ.get("COURSE_WORK_DIR", ROOT / "data"))).expanduser()  # what the course writes: caches, checkpoints, results
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
    name = os.environ.get("COURSE_PROFILE", "").strip().lower()
    if name:
        if name not in PROFILES:
            raise ValueError(
                f"COURSE_PROFILE must be one of {PROFILES}, got {name!r}. "
                "Unset it to choose automatically (full with a CUDA GPU, quick otherwise)."
            )
        return name
    device = device or get_device()
    return "full" if torch.device(device).type == "cuda" else "quick"


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
