"""course_utils.data: sources, cache, completeness checks, subsets and the on-device loader."""
import os
import time

import pytest
import torch

from course_utils import data
from conftest import TINY, write_folder_copy


def load_tiny(root, **kw):
    return data.load_cifar10("cpu", root=root, folder_per_class=TINY, **kw)


def test_folder_copy_loads_as_uint8_with_canonical_labels(tiny_root):
    d = load_tiny(tiny_root)
    assert d.train_images.shape == (60, 3, 32, 32) and d.train_images.dtype == torch.uint8
    assert d.test_images.shape == (20, 3, 32, 32)
    assert d.train_labels.dtype == torch.int64
    # the writer stored each class index in a pixel: folder order must give the canonical labels
    assert torch.equal(d.train_images[:, 0, 0, 0].long(), d.train_labels)
    assert torch.equal(torch.bincount(d.train_labels), torch.full((10,), 6))
    assert "image-folder" in d.source


def test_decoded_tensors_are_cached_and_the_cache_notices_changes(tiny_root, monkeypatch):
    load_tiny(tiny_root)
    cache = tiny_root / "cache" / f"cifar10-folder-{data.FOLDER_DIR}.pt"
    assert cache.exists()
    calls = []
    real = data._decode
    monkeypatch.setattr(data, "_decode", lambda path: calls.append(1) or real(path))
    load_tiny(tiny_root)
    assert calls == []  # served from the cache
    img = tiny_root / data.FOLDER_DIR / "train" / "cat" / "0000.png"
    from torchvision.io import write_png
    write_png(torch.zeros(3, 32, 32, dtype=torch.uint8), str(img))
    os.utime(img, (time.time() + 5, time.time() + 5))
    d = load_tiny(tiny_root)
    assert calls  # the source changed: decoded again
    assert d.train_images[torch.nonzero(d.train_labels == 3)[0, 0]].sum() == 0


def test_partial_copy_is_an_error(tiny_root):
    (tiny_root / data.FOLDER_DIR / "train" / "dog" / "0003.png").unlink()
    with pytest.raises(data.DataError, match=r"dog holds 5 images, a complete version has 6: the folder is partial"):
        load_tiny(tiny_root)


def test_missing_class_folder_is_an_error(tiny_root):
    import shutil
    shutil.rmtree(tiny_root / data.FOLDER_DIR / "test" / "frog")
    with pytest.raises(data.DataError, match=r"should hold exactly the 10 class folders"):
        load_tiny(tiny_root)


def test_corrupt_image_is_an_error(tiny_root):
    (tiny_root / data.FOLDER_DIR / "train" / "ship" / "0001.png").write_bytes(b"not an image")
    with pytest.raises(data.DataError, match=r"Could not decode .*0001.png .* The folder is corrupt"):
        load_tiny(tiny_root)


def test_wrong_image_size_is_an_error(tiny_root):
    from torchvision.io import write_png
    write_png(torch.zeros(3, 16, 16, dtype=torch.uint8), str(tiny_root / data.FOLDER_DIR / "test" / "cat" / "0000.png"))
    with pytest.raises(data.DataError, match=r"is \(16, 16\) pixels, CIFAR-10 images are 32x32"):
        load_tiny(tiny_root)


def test_offline_with_no_copy_names_both_ways(tmp_path, monkeypatch):
    from torchvision import datasets

    def offline(self, *a, **k):
        raise OSError("network unreachable")

    monkeypatch.setattr(datasets.CIFAR10, "download", offline)
    with pytest.raises(data.DataError) as err:
        data.load_cifar10("cpu", root=tmp_path)
    msg = str(err.value)
    assert "could not be downloaded (OSError: network unreachable)" in msg
    assert "cifar-10-batches-py" in msg and "cifar10-jpeg" in msg and "tar -xzf" in msg
    with pytest.raises(data.DataError, match="Two ways to get it"):
        data.load_cifar10("cpu", root=tmp_path, download=False)


def test_corrupt_canonical_copy_is_an_error(tmp_path):
    folder = tmp_path / data.CANONICAL_DIR
    folder.mkdir()
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch",
                 "batches.meta"]:
        (folder / name).write_bytes(b"truncated")
    with pytest.raises(data.DataError, match=r"incomplete or corrupt .*md5.*Delete that folder"):
        data.load_cifar10("cpu", root=tmp_path, download=False)


def test_bad_source_name():
    with pytest.raises(ValueError, match=r"source must be 'auto', 'canonical' or 'folder', got 'web'"):
        data.load_cifar10("cpu", source="web")


def test_balanced_subset(tiny_root):
    d = load_tiny(tiny_root)
    s = d.subset(train_per_class=4, test_per_class=1, seed=3)
    assert torch.equal(torch.bincount(s.train_labels), torch.full((10,), 4))
    assert torch.equal(torch.bincount(s.test_labels), torch.ones(10, dtype=torch.long))
    assert torch.equal(s.train_images, d.subset(train_per_class=4, seed=3).train_images)  # seeded
    assert not torch.equal(s.train_images, d.subset(train_per_class=4, seed=4).train_images)
    with pytest.raises(ValueError, match=r"per_class must be between 1 and 6 .* got 7"):
        d.subset(train_per_class=7)


def test_set_aside_takes_a_balanced_validation_split_out(tiny_root):
    d = load_tiny(tiny_root)
    rest, val_x, val_y = d.set_aside("train", per_class=2, seed=1)
    assert len(rest.train_images) == 40 and len(val_x) == 20
    assert torch.equal(torch.bincount(val_y), torch.full((10,), 2))
    train_set = {bytes(x.numpy()) for x in rest.train_images}
    assert not any(bytes(x.numpy()) in train_set for x in val_x)  # disjoint
    assert torch.equal(rest.test_images, d.test_images)


def test_loader_shapes_dtype_and_normalisation(tiny_root):
    d = load_tiny(tiny_root)
    loader = data.Loader(d.train_images, d.train_labels, batch_size=16, seed=0)
    batches = list(loader)
    assert len(batches) == len(loader) == 60 // 16  # training drops the ragged last batch
    x, y = batches[0]
    assert x.shape == (16, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    whole = data.Loader(d.test_images, d.test_labels, batch_size=16, shuffle=False, augment=False)
    assert sum(len(b[1]) for b in whole) == 20  # evaluation keeps every example
    xs = torch.cat([b[0] for b in whole])
    assert torch.allclose(xs, data.normalize(d.test_images))
    assert abs(data.normalize(d.test_images).mean()) < 0.5


def test_loader_augmentation_changes_pixels_not_labels(tiny_root):
    d = load_tiny(tiny_root)
    plain = data.Loader(d.train_images, d.train_labels, batch_size=60, seed=5, augment=False)
    aug = data.Loader(d.train_images, d.train_labels, batch_size=60, seed=5, augment=True)
    (x0, y0), (x1, y1) = next(iter(plain)), next(iter(aug))
    assert torch.equal(y0, y1)  # same seed, same order: only the pixels differ
    assert not torch.allclose(x0, x1)
    changed = (x0 - x1).abs().flatten(1).amax(1) > 0
    assert changed.float().mean() > 0.5  # most images were flipped and/or shifted


def test_augment_is_flip_and_reflected_translation():
    img = torch.arange(2 * 3 * 32 * 32, dtype=torch.int64).view(2, 3, 32, 32).to(torch.uint8)
    none = data.augment(img, torch.tensor([False, False]), torch.zeros(2, 2, dtype=torch.long))
    assert torch.equal(none, img)
    flipped = data.augment(img, torch.tensor([True, False]), torch.zeros(2, 2, dtype=torch.long))
    assert torch.equal(flipped[0], img[0].flip(2)) and torch.equal(flipped[1], img[1])
    shifted = data.augment(img, torch.tensor([False, False]), torch.tensor([[2, 0], [0, -1]]))
    assert torch.equal(shifted[0, :, :30], img[0, :, 2:])  # rows move up by 2 ...
    assert torch.equal(shifted[0, :, 30], img[0, :, 30]) and torch.equal(shifted[0, :, 31], img[0, :, 29])  # reflect
    assert torch.equal(shifted[1, :, :, 1:], img[1, :, :, :31]) and torch.equal(shifted[1, :, :, 0], img[1, :, :, 1])


def test_loader_is_deterministic_per_seed_and_epoch(tiny_root):
    d = load_tiny(tiny_root)
    a = data.Loader(d.train_images, d.train_labels, batch_size=20, seed=1)
    b = data.Loader(d.train_images, d.train_labels, batch_size=20, seed=1)
    first_a, first_b = [x for x, _ in a], [x for x, _ in b]
    assert all(torch.equal(u, v) for u, v in zip(first_a, first_b))
    second_a = [x for x, _ in a]
    assert not torch.equal(first_a[0], second_a[0])  # a new epoch reshuffles


def test_loader_bad_input():
    with pytest.raises(ValueError, match=r"expected uint8 images shaped \(N, 3, H, W\), got torch.float32"):
        data.Loader(torch.zeros(4, 3, 32, 32), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"got 4 images but 3 targets"):
        data.Loader(torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.zeros(3, dtype=torch.long))


def test_real_cifar10_is_complete_and_balanced(cifar):
    assert cifar.train_images.shape == (50000, 3, 32, 32) and cifar.test_images.shape == (10000, 3, 32, 32)
    assert torch.equal(torch.bincount(cifar.train_labels), torch.full((10,), 5000))
    assert torch.equal(torch.bincount(cifar.test_labels), torch.full((10,), 1000))
    q = cifar.subset(train_per_class=100, test_per_class=10)
    assert torch.equal(torch.bincount(q.train_labels), torch.full((10,), 100))


def test_first_per_class():
    assert data.first_per_class(torch.tensor([1, 0, 1, 0, 2])).tolist() == [1, 0, 4]
    assert data.first_per_class(torch.tensor([1, 0, 1, 0, 2]), per_class=2).tolist() == [1, 3, 0, 2, 4]
