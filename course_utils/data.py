"""CIFAR-10 as uint8 tensors on the device, and a loader that shuffles and augments there.

Sources, tried in this order (the first that is present wins, so nothing waits on the network
when a local copy exists):
1. the canonical set in torchvision's layout, `data/cifar-10-batches-py` (md5-checked);
2. an image-folder copy, `data/cifar10-jpeg/{train,test}/<class>/*.{jpg,png}`;
3. a download of the canonical set through `torchvision.datasets.CIFAR10`.
Decoded tensors are cached in `data/cache/`, keyed by a fingerprint of the source files, so the
60,000 images are decoded once and re-decoded only when the source changes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from . import config

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
MEAN = (0.4914, 0.4822, 0.4465)  # per-channel mean of the CIFAR-10 training images
STD = (0.2470, 0.2435, 0.2616)  # per-channel standard deviation
CANONICAL_DIR = "cifar-10-batches-py"  # torchvision's layout
FOLDER_DIR = "cifar10-jpeg"  # an image-folder copy
FOLDER_PER_CLASS = {"train": 5000, "test": 1000}  # a complete copy has exactly these counts
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


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

    def to(self, device) -> "CIFAR10":
        return replace(self, **{k: getattr(self, k).to(device) for k in
                                ("train_images", "train_labels", "test_images", "test_labels")})

    def subset(self, train_per_class: int | None = None, test_per_class: int | None = None,
               seed: int = 0) -> "CIFAR10":
        """A class-balanced subset (None keeps a split whole); the same seed gives the same images."""
        out = self
        if train_per_class is not None:
            idx = balanced_indices(self.train_labels, train_per_class, seed)
            out = replace(out, train_images=self.train_images[idx], train_labels=self.train_labels[idx])
        if test_per_class is not None:
            idx = balanced_indices(self.test_labels, test_per_class, seed)
            out = replace(out, test_images=self.test_images[idx], test_labels=self.test_labels[idx])
        return out

    def holdout(self, per_class: int, seed: int = 0) -> tuple["CIFAR10", torch.Tensor, torch.Tensor]:
        """Set `per_class` training images of every class aside as a validation set.

        Returns (the data without them, validation images, validation labels): choices such as
        alpha and T are made on the validation set, so the test set only ever measures.
        """
        return self._set_aside("train", per_class, seed)

    def split_test(self, per_class: int, seed: int = 0) -> tuple["CIFAR10", torch.Tensor, torch.Tensor]:
        """Set `per_class` *test* images of every class aside as a validation set.

        Returns (the data with the rest of the test set, validation images, validation labels). Neither
        a teacher nor a student trains on test images, so choices made on this validation set cannot be
        flattered by what a teacher learned from its own training images.
        """
        return self._set_aside("test", per_class, seed)

    def _set_aside(self, split: str, per_class: int, seed: int) -> tuple["CIFAR10", torch.Tensor, torch.Tensor]:
        """(this data without `per_class` images of every class of `split`, those images, their labels)."""
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
    if per_class < 1 or per_class > int(counts.min()):
        raise ValueError(f"per_class must be between 1 and {int(counts.min())} (the rarest class's count), "
                         f"got {per_class}.")
    g = torch.Generator().manual_seed(seed)
    picks = [torch.nonzero(labels == c).flatten() for c in range(len(counts))]
    picks = [p[torch.randperm(len(p), generator=g)[:per_class]] for p in picks]
    return torch.cat(picks).sort().values


# ----------------------------------------------------------------------------- reading the sources

def _fingerprint(files: list[Path], root: Path) -> str:
    """Names, sizes and modification times of the source files: changes when the copy changes."""
    h = hashlib.sha1()
    for f in files:
        st = f.stat()
        h.update(f"{f.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _folder_files(root: Path, per_class: dict) -> dict[str, list[tuple[Path, int]]]:
    """The image files of a folder copy by split, checked complete: class folders and counts."""
    out = {}
    for split, expected in per_class.items():
        split_dir = root / split
        if not split_dir.is_dir():
            raise DataError(f"The image-folder copy at {root} has no '{split}' folder. Expected "
                            f"{root}/{{train,test}}/<class>/*.jpg; re-extract the copy or delete it.")
        found = sorted(d.name for d in split_dir.iterdir() if d.is_dir())
        if tuple(found) != CLASSES:
            raise DataError(f"{split_dir} should hold exactly the 10 class folders {list(CLASSES)}, "
                            f"found {found}. Re-extract the copy or delete it.")
        files = []
        for label, name in enumerate(CLASSES):
            imgs = sorted(p for p in (split_dir / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if len(imgs) != expected:
                raise DataError(f"{split_dir / name} holds {len(imgs)} images, a complete copy has {expected}: "
                                "the copy is partial. Re-extract it (or delete it to use the canonical set).")
            files += [(p, label) for p in imgs]
        out[split] = files
    return out


def _decode_folder(files: list[tuple[Path, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    import warnings

    with warnings.catch_warnings():  # torchvision >= 0.29 announces a move of its decoders to torchcodec
        warnings.simplefilter("ignore", DeprecationWarning)
        from torchvision.io import ImageReadMode, decode_image, read_file

    images = torch.empty(len(files), 3, 32, 32, dtype=torch.uint8)
    for i, (path, _) in enumerate(files):
        try:
            img = decode_image(read_file(str(path)), mode=ImageReadMode.RGB)  # (3, H, W) uint8
        except Exception as err:  # torchvision raises RuntimeError for a broken file
            raise DataError(f"Could not decode {path} ({err}). The copy is corrupt: re-extract it.") from err
        if img.shape != (3, 32, 32):
            raise DataError(f"{path} is {tuple(img.shape[1:])} pixels, CIFAR-10 images are 32x32.")
        images[i] = img
    labels = torch.tensor([label for _, label in files], dtype=torch.int64)
    return images, labels


def _read_canonical(root: Path, download: bool) -> dict:
    from torchvision.datasets import CIFAR10 as TVCIFAR10

    out = {}
    for split in ("train", "test"):
        try:
            ds = TVCIFAR10(str(root), train=(split == "train"), download=download)
        except RuntimeError as err:
            raise DataError(f"{root / CANONICAL_DIR} is incomplete or corrupt (torchvision's md5 check "
                            f"failed: {err}). Delete that folder and run again to download it afresh.") from err
        out[f"{split}_images"] = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))
        out[f"{split}_labels"] = torch.tensor(ds.targets, dtype=torch.int64)
    return out


def _cached(cache_file: Path, fingerprint: str, build) -> dict:
    """Tensors from the cache when its fingerprint matches the source, else built and cached."""
    if cache_file.exists():
        try:
            cached = torch.load(cache_file, weights_only=True)
            if cached.get("fingerprint") == fingerprint:
                return cached
        except Exception:  # an unreadable cache is rebuilt, never trusted
            pass
    tensors = build()
    tensors["fingerprint"] = fingerprint
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(".tmp")
    torch.save(tensors, tmp)
    tmp.replace(cache_file)  # atomic: a crash never leaves half a cache
    return tensors


def _download_help(root: Path, err: Exception | None) -> str:
    return (f"CIFAR-10 was not found under {root} and could not be downloaded"
            f"{f' ({type(err).__name__}: {err})' if err else ''}. Two ways to get it:\n"
            f"  1. the canonical set: on a machine with internet, run the notebook again (torchvision downloads\n"
            f"     it to {root / CANONICAL_DIR}), or copy such a folder here;\n"
            f"  2. an image-folder copy: {root / FOLDER_DIR}/{{train,test}}/<class>/*.jpg, e.g.\n"
            f"     `tar -xzf cifar10-jpeg.tar.gz -C {root}`.")


def load_cifar10(device=None, root: Path | str | None = None, source: str = "auto",
                 download: bool = True, folder_per_class: dict | None = None) -> CIFAR10:
    """CIFAR-10 on `device` (default: config.get_device()); `source` is 'auto', 'canonical' or 'folder'."""
    if source not in ("auto", "canonical", "folder"):
        raise ValueError(f"source must be 'auto', 'canonical' or 'folder', got {source!r}.")
    root = Path(root) if root is not None else config.DATA_DIR
    device = device or config.get_device()
    canonical, folder = root / CANONICAL_DIR, root / FOLDER_DIR
    per_class = folder_per_class or FOLDER_PER_CLASS

    if source == "canonical" or (source == "auto" and (canonical.is_dir() or not folder.is_dir())):
        if not canonical.is_dir():
            if not download:
                raise DataError(_download_help(root, None))
            try:
                _read_canonical(root, download=True)
            except DataError:
                raise
            except Exception as err:  # offline: URLError, socket timeout, ...
                raise DataError(_download_help(root, err)) from err
        files = sorted(p for p in canonical.iterdir() if p.is_file())
        tensors = _cached(root / "cache" / "cifar10-canonical.pt", _fingerprint(files, root),
                          lambda: _read_canonical(root, download=False))
        name = "canonical CIFAR-10 (torchvision)"
    else:
        if not folder.is_dir():
            raise DataError(_download_help(root, None))
        split_files = _folder_files(folder, per_class)
        every = [p for files in split_files.values() for p, _ in files]

        def build():
            out = {}
            for split, files in split_files.items():
                out[f"{split}_images"], out[f"{split}_labels"] = _decode_folder(files)
            return out

        tensors = _cached(root / "cache" / f"cifar10-folder-{FOLDER_DIR}.pt", _fingerprint(every, root), build)
        name = f"image-folder copy {FOLDER_DIR}"
    return CIFAR10(tensors["train_images"], tensors["train_labels"], tensors["test_images"],
                   tensors["test_labels"], source=name).to(device)


def find_source(root: Path | str | None = None) -> str | None:
    """Which copy load_cifar10 would read, without reading it: 'canonical', 'folder' or None."""
    root = Path(root) if root is not None else config.DATA_DIR
    if (root / CANONICAL_DIR).is_dir():
        return "canonical"
    if (root / FOLDER_DIR).is_dir():
        return "folder"
    return None


# ----------------------------------------------------------------------------- on the device

# The memory layout of every batch that data.Loader yields and train.predict feeds, and of every model
# train.fit trains: channels_last (NHWC) lets convolutions run faster on a GPU and, through oneDNN, on a
# CPU too (bench/memory_format.py measures it against the default NCHW layout by changing this constant).
MEMORY_FORMAT = torch.channels_last


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, 32, 32) -> float32 with the CIFAR-10 mean and std removed."""
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"expected uint8 images shaped (N, 3, H, W), got {images.dtype} {tuple(images.shape)}.")
    mean, std = _mean_std(images.device)
    return (images.float() / 255 - mean) / std


_MEAN_STD: dict = {}


def _mean_std(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """MEAN and STD as (1, 3, 1, 1) tensors, made once per device (no copy to the GPU per batch)."""
    if device not in _MEAN_STD:
        _MEAN_STD[device] = (torch.tensor(MEAN, device=device).view(1, 3, 1, 1),
                             torch.tensor(STD, device=device).view(1, 3, 1, 1))
    return _MEAN_STD[device]


def augment(images: torch.Tensor, flip: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Flip where `flip` (B,) is True, then translate by `shift` (B, 2) pixels with reflected borders."""
    B, C, H, W = images.shape
    images = torch.where(flip.view(B, 1, 1, 1), images.flip(3), images)
    rows = (torch.arange(H, device=images.device) + shift[:, :1]).abs()  # (B, H), reflect at 0 ...
    cols = (torch.arange(W, device=images.device) + shift[:, 1:]).abs()  # (B, W)
    rows = torch.where(rows > H - 1, 2 * (H - 1) - rows, rows)  # ... and at the far edge
    cols = torch.where(cols > W - 1, 2 * (W - 1) - cols, cols)
    b = torch.arange(B, device=images.device).view(B, 1, 1)
    out = images[b, :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2)


class Loader:
    """Shuffled, augmented, normalised batches from uint8 images held on the device.

    Each epoch's order, flips and shifts come from a generator seeded by (seed, epoch), so two
    loaders with the same seed give identical batches: compared runs see the same data.
    `targets` may be labels (N,) or anything per-example, e.g. soft targets (N, C).
    """

    def __init__(self, images: torch.Tensor, targets: torch.Tensor, batch_size: int = 512,
                 shuffle: bool = True, augment: bool = True, drop_last: bool | None = None,
                 seed: int = 0, pad: int = 2):  # pad: the largest translation, in pixels
        if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected uint8 images shaped (N, 3, H, W), got {images.dtype} {tuple(images.shape)}.")
        if len(targets) != len(images):
            raise ValueError(f"got {len(images)} images but {len(targets)} targets; they must match one to one.")
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
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        flip = torch.rand(n, generator=g) < 0.5
        shift = torch.randint(-self.pad, self.pad + 1, (n, 2), generator=g)
        order, flip, shift = order.to(device), flip.to(device), shift.to(device)
        self.epoch += 1
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            x = self.images[idx]
            if self.augment:
                x = augment(x, flip[idx], shift[idx])
            x = normalize(x).contiguous(memory_format=MEMORY_FORMAT)
            yield x, self.targets[idx]
