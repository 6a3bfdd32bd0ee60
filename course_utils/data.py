"""CIFAR-10 as uint8 tensors on the device, and a loader that shuffles and augments there.

Sources, first present wins: the canonical set (`data/cifar-10-batches-py`, md5-checked by torchvision),
an image-folder copy (`data/cifar10-jpeg/{train,test}/<class>/*.jpg`), else a download of the canonical
set. Decoded tensors are cached in `<work dir>/cache/`, keyed by the source files' names, sizes and times.
"""
from __future__ import annotations

import hashlib
import numbers
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import CIFAR10 as TorchvisionCIFAR10

from . import config
from .files import WriteError, sweep_stale, write_atomic

with warnings.catch_warnings():  # torchvision >= 0.29 announces a move of its decoders to torchcodec
    warnings.simplefilter("ignore", DeprecationWarning)
    from torchvision.io import ImageReadMode, decode_image, read_file

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)  # per channel, over the training images
CANONICAL_DIR, FOLDER_DIR = "cifar-10-batches-py", "cifar10-jpeg"
FOLDER_PER_CLASS = {"train": 5000, "test": 1000}  # a complete image-folder copy has exactly these counts
MEMORY_FORMAT = torch.channels_last  # layout of every batch and trained model: faster convolutions (bench/memory_format.py)


class DataError(RuntimeError):
    """The data set is missing, partial or corrupt; the message says how to get a good copy."""


@dataclass
class CIFAR10:
    """Train and test images, uint8 (N, 3, 32, 32), and int64 labels (N,), all on one device."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str  # which copy these came from, for every reported number
    classes: tuple = CLASSES

    def to(self, device) -> CIFAR10:
        return replace(self, **{k: getattr(self, k).to(device) for k in
                                ("train_images", "train_labels", "test_images", "test_labels")})

    def subset(self, train_per_class: int | None = None, test_per_class: int | None = None, seed: int = 0) -> CIFAR10:
        """A class-balanced subset (None keeps a split whole); the same seed gives the same images."""
        out = self
        for split, per_class in (("train", train_per_class), ("test", test_per_class)):
            if per_class is not None:
                images, labels = getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")
                idx = balanced_indices(labels, per_class, seed)
                out = replace(out, **{f"{split}_images": images[idx], f"{split}_labels": labels[idx]})
        return out

    def set_aside(self, split: str, per_class: int, seed: int = 0) -> tuple[CIFAR10, torch.Tensor, torch.Tensor]:
        """(this data without `per_class` images of every class of `split`, those images, their labels):
        a validation set. From "test", neither a teacher nor a student has trained on it."""
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test' (the set to take images from), got {split!r}.")
        images, labels = getattr(self, f"{split}_images"), getattr(self, f"{split}_labels")
        idx = balanced_indices(labels, per_class, seed).to(labels.device)
        keep = torch.ones(len(labels), dtype=torch.bool, device=idx.device)
        keep[idx] = False
        rest = replace(self, **{f"{split}_images": images[keep], f"{split}_labels": labels[keep]})
        return rest, images[idx], labels[idx]

    def __repr__(self) -> str:
        return (f"CIFAR10(train={tuple(self.train_images.shape)}, test={tuple(self.test_images.shape)}, "
                f"device={self.train_images.device}, source={self.source!r})")


def balanced_indices(labels: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of `per_class` examples of every class, drawn at random (seeded), in sorted order."""
    labels = labels.cpu()
    counts = torch.bincount(labels)
    if isinstance(per_class, bool) or not isinstance(per_class, numbers.Integral):
        raise ValueError(f"per_class must be a whole number of images per class, got {per_class!r}.")
    if per_class < 1 or per_class > int(counts.min()):
        raise ValueError(f"per_class must be between 1 and {int(counts.min())} (the rarest class's count), "
                         f"got {per_class}.")
    g = torch.Generator().manual_seed(seed)
    picks = [torch.nonzero(labels == c).flatten() for c in range(len(counts))]
    return torch.cat([p[torch.randperm(len(p), generator=g)[:per_class]] for p in picks]).sort().values


def first_per_class(labels: torch.Tensor, per_class: int = 1) -> torch.Tensor:
    """Indices of the first `per_class` examples of every class, class by class."""
    labels = labels.cpu()
    return torch.cat([torch.nonzero(labels == c).flatten()[:per_class] for c in range(int(labels.max()) + 1)])


def _read_canonical(root: Path, download: bool) -> dict:
    out = {}
    for split in ("train", "test"):
        try:
            ds = TorchvisionCIFAR10(str(root), train=(split == "train"), download=download)
        except RuntimeError as err:
            raise DataError(f"{root / CANONICAL_DIR} is incomplete or corrupt (torchvision's md5 check "
                            f"failed: {err}). Delete that folder and run again to download it afresh.") from err
        out[f"{split}_images"] = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))
        out[f"{split}_labels"] = torch.tensor(ds.targets, dtype=torch.int64)
    return out


def _folder_files(root: Path, per_class: dict) -> dict[str, list[tuple[Path, int]]]:
    """The image files of a folder copy by split, checked complete: class folders and counts."""
    out = {}
    for split, expected in per_class.items():
        found = sorted(d.name for d in (root / split).iterdir() if d.is_dir()) if (root / split).is_dir() else []
        if tuple(found) != CLASSES:
            raise DataError(f"{root / split} should hold exactly the 10 class folders {list(CLASSES)}, found "
                            f"{found}. Expected {root}/{{train,test}}/<class>/*.jpg: re-extract the folder or delete it.")
        out[split] = []
        for label, name in enumerate(CLASSES):
            imgs = sorted(p for p in (root / split / name).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
            if len(imgs) != expected:
                raise DataError(f"{root / split / name} holds {len(imgs)} images, a complete version has {expected}: "
                                "the folder is partial. Re-extract it (or delete it to use the canonical set).")
            out[split] += [(p, label) for p in imgs]
    return out


def _decode(path: Path) -> torch.Tensor:
    try:
        img = decode_image(read_file(str(path)), mode=ImageReadMode.RGB)  # (3, H, W) uint8
    except RuntimeError as err:  # torchvision's error for a broken file
        raise DataError(f"Could not decode {path} ({err}). The folder is corrupt: re-extract it.") from err
    if img.shape != (3, 32, 32):
        raise DataError(f"{path} is {tuple(img.shape[1:])} pixels, CIFAR-10 images are 32x32.")
    return img


def _cached(cache_file: Path, files: list[Path], root: Path, build) -> dict:
    """Tensors from the cache when it was built from these very files, else built and cached. The cache is
    optional: a cache that cannot be read is rebuilt, one that cannot be written costs the decoding next time."""
    sweep_stale(cache_file.parent)  # temporary files of kernels killed while writing a cache (hundreds of MB each)
    h = hashlib.sha1()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    if cache_file.exists():
        try:
            cached = torch.load(cache_file, weights_only=True)
            if cached.get("fingerprint") == h.hexdigest():
                return cached
        except Exception:  # an unreadable cache is rebuilt, never trusted
            pass
    tensors = {**build(), "fingerprint": h.hexdigest()}
    try:  # whole or not at all; a cache that cannot be written only costs the decoding next time
        write_atomic(cache_file, lambda tmp: torch.save(tensors, tmp))
    except WriteError as err:
        warnings.warn(f"the decoded images were not cached, so the next run decodes them again. {err}", stacklevel=3)
    return tensors


def _missing(root: Path, err: Exception | None = None) -> DataError:
    return DataError(
        f"CIFAR-10 was not found under {root} and could not be downloaded{f' ({type(err).__name__}: {err})' if err else ''}."
        f" Two ways to get it:\n  1. the canonical set: on a machine with internet, run the notebook again "
        f"(torchvision downloads\n     it to {root / CANONICAL_DIR}), or copy such a folder here;\n  2. an image-folder "
        f"version: {root / FOLDER_DIR}/{{train,test}}/<class>/*.jpg, e.g.\n     `tar -xzf cifar10-jpeg.tar.gz -C {root}`.")


def _no_folder(root: Path) -> DataError:
    if root == config.DATA_DIR and os.environ.get("COURSE_DATA_DIR", "").strip():
        named, other = f"COURSE_DATA_DIR={str(root)!r}", f"or unset COURSE_DATA_DIR to use {config.ROOT / 'data'}"
    else:
        named, other = f"the data folder {str(root)!r}", "or pass a folder that exists"
    return DataError(f"{named} does not exist, so the course does not create it or download CIFAR-10 into it. Check "
                     f"the path (a typo?); if it is right, create the folder and put the data there (the README's "
                     f"section 'The data'), {other}.")


def load_cifar10(device=None, root: Path | str | None = None, source: str = "auto",
                 download: bool = True, folder_per_class: dict | None = None) -> CIFAR10:
    """CIFAR-10 on `device` (default: config.get_device()); `source` is 'auto', 'canonical' or 'folder'.

    Read from `root` (default COURSE_DATA_DIR, which may be read-only); the decoded tensors are cached in
    root/cache for a given root, else in COURSE_WORK_DIR/cache."""
    if source not in ("auto", "canonical", "folder"):
        raise ValueError(f"source must be 'auto', 'canonical' or 'folder', got {source!r}.")
    cache = (Path(root) if root is not None else config.WORK_DIR) / "cache"
    root = Path(root) if root is not None else config.DATA_DIR
    if not root.is_dir():  # a typo: never created, nor downloaded into (torchvision would create it)
        raise _no_folder(root)
    canonical, folder = root / CANONICAL_DIR, root / FOLDER_DIR
    if source == "canonical" or (source == "auto" and (canonical.is_dir() or not folder.is_dir())):
        if not canonical.is_dir():
            if not download:
                raise _missing(root)
            try:
                _read_canonical(root, download=True)
            except DataError:
                raise
            except Exception as err:  # offline: URLError, socket timeout, ...
                raise _missing(root, err) from err
        files = sorted(p for p in canonical.iterdir() if p.is_file())
        tensors = _cached(cache / "cifar10-canonical.pt", files, root, lambda: _read_canonical(root, False))
        name = "canonical CIFAR-10 (torchvision)"
    else:
        if not folder.is_dir():
            raise _missing(root)
        split_files = _folder_files(folder, folder_per_class or FOLDER_PER_CLASS)

        def build() -> dict:
            return {k: v for split, files in split_files.items() for k, v in (
                (f"{split}_images", torch.stack([_decode(p) for p, _ in files])),
                (f"{split}_labels", torch.tensor([label for _, label in files], dtype=torch.int64)))}

        every = [p for files in split_files.values() for p, _ in files]
        tensors = _cached(cache / f"cifar10-folder-{FOLDER_DIR}.pt", every, root, build)
        name = f"image-folder version {FOLDER_DIR}"
    return CIFAR10(tensors["train_images"], tensors["train_labels"], tensors["test_images"],
                   tensors["test_labels"], source=name).to(device or config.get_device())


def find_source(root: Path | str | None = None) -> str | None:
    """Which copy load_cifar10 would read, without reading it: 'canonical', 'folder' or None."""
    root = Path(root) if root is not None else config.DATA_DIR
    return next((name for name, d in (("canonical", CANONICAL_DIR), ("folder", FOLDER_DIR)) if (root / d).is_dir()), None)


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float32 with the CIFAR-10 mean and std removed."""
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected uint8 images shaped (N, 3, H, W), got {images.dtype} {tuple(images.shape)}.")
    mean = torch.tensor(MEAN, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=images.device).view(1, 3, 1, 1)
    return (images.float() / 255 - mean) / std


def augment(images: torch.Tensor, flip: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Flip where `flip` (B,) is True, then translate by `shift` (B, 2) pixels with reflected borders."""
    B, C, H, W = images.shape
    images = torch.where(flip.view(B, 1, 1, 1), images.flip(3), images)
    rows = (torch.arange(H, device=images.device) + shift[:, :1]).abs()  # (B, H), reflect at 0 ...
    cols = (torch.arange(W, device=images.device) + shift[:, 1:]).abs()  # (B, W)
    rows = torch.where(rows > H - 1, 2 * (H - 1) - rows, rows)  # ... and at the far edge
    cols = torch.where(cols > W - 1, 2 * (W - 1) - cols, cols)
    b = torch.arange(B, device=images.device).view(B, 1, 1)
    return images[b, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (B, H, W, C) -> (B, C, H, W)


class Loader:
    """Shuffled, augmented, normalised batches from uint8 images held on the device.

    Each epoch's order, flips and shifts come from a generator seeded by (seed, epoch): two loaders with
    the same seed give identical batches. `targets`: labels (N,) or anything per example, e.g. (N, C).
    """

    def __init__(self, images: torch.Tensor, targets: torch.Tensor, batch_size: int = 512,
                 shuffle: bool = True, augment: bool = True, drop_last: bool | None = None,
                 seed: int = 0, pad: int = 2):  # pad: the largest translation, in pixels
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected uint8 images shaped (N, 3, H, W), got {images.dtype} {tuple(images.shape)}.")
        if len(targets) != len(images):
            raise ValueError(f"got {len(images)} images but {len(targets)} targets; they must match one to one.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}.")
        largest = min(images.shape[2:]) - 1  # the reflection of a shift stays inside the image up to this
        if isinstance(pad, bool) or not isinstance(pad, numbers.Integral) or not 0 <= pad <= largest:
            raise ValueError(f"pad (the largest translation, in pixels) must be a whole number between 0 and {largest} "
                             f"for {tuple(images.shape[2:])} images, got {pad!r}.")
        batch_size, pad = int(batch_size), int(pad)
        self.images, self.targets = images, targets.to(images.device)
        self.batch_size, self.shuffle, self.augment, self.seed, self.pad = batch_size, shuffle, augment, seed, pad
        self.drop_last = shuffle if drop_last is None else drop_last  # training drops the ragged batch
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.images)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n, device = len(self.images), self.images.device
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = (torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)).to(device)
        flip = (torch.rand(n, generator=g) < 0.5).to(device)
        shift = torch.randint(-self.pad, self.pad + 1, (n, 2), generator=g).to(device)
        self.epoch += 1
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            x = augment(self.images[idx], flip[idx], shift[idx]) if self.augment else self.images[idx]
            yield normalize(x).contiguous(memory_format=MEMORY_FORMAT), self.targets[idx]
