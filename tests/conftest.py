"""Shared fixtures: a tiny synthetic image-folder copy, and the real data when it is present."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("COURSE_PROFILE", "quick")  # tests never pick the GPU recipe by accident

from course_utils import config, data, numerics  # noqa: E402


@pytest.fixture(autouse=True)
def float32_on_the_cpu(monkeypatch):
    """Unit tests compare numbers with float32 references: they train in fp32 whatever this CPU would choose
    (tests of the choice itself clear this). Notebooks under nbval run in kernels of their own, unaffected."""
    monkeypatch.setattr(numerics, "_chosen", {"cpu": numerics.Numerics("float32", "channels_last", why="unit tests")})
    monkeypatch.setattr(data, "MEMORY_FORMAT", torch.channels_last)


def write_folder_copy(root: Path, per_class: dict, seed: int = 0) -> Path:
    """A complete image-folder copy in miniature: PNGs under root/cifar10-jpeg/{split}/{class}/."""
    from torchvision.io import write_png

    g = torch.Generator().manual_seed(seed)
    for split, n in per_class.items():
        for label, name in enumerate(data.CLASSES):
            folder = root / data.FOLDER_DIR / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                img = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8, generator=g)
                img[0, 0, 0] = label  # the class is readable from the pixels: a check for label order
                write_png(img, str(folder / f"{i:04d}.png"))
    return root


TINY = {"train": 6, "test": 2}


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    return write_folder_copy(tmp_path, TINY)


@pytest.fixture(scope="session")
def cifar():
    """The real CIFAR-10 (any copy) on the CPU; CI extracts the JPEG copy before the tests."""
    if data.find_source() is None:
        pytest.skip(f"no CIFAR-10 copy under {config.DATA_DIR}: run `make data` (see README)")
    return data.load_cifar10("cpu")
