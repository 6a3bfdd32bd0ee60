"""Fault injection: every failure a learner or an instructor can plausibly hit ends in a message that names the
file or setting at fault and the fix, and no file is left half-written. Then: re-running gives the same results."""
from __future__ import annotations

import errno
import shutil
import urllib.error

import pytest
import torch
from torch import nn

from course_utils import checkpoints, config, data, distill_study, files, models, results, train
from conftest import TINY

# ----------------------------------------------------------------------------- checkpoints


@pytest.fixture
def saved(tmp_path):
    """A good student checkpoint, and its bytes."""
    torch.manual_seed(0)
    path = checkpoints.save(models.make_student(), tmp_path / "student.pt", test_acc=0.5)
    return path, path.read_bytes()


def test_a_truncated_checkpoint_says_so_and_how_to_fix_it(saved):
    path, good = saved
    path.write_bytes(good[: len(good) // 2])  # an interrupted download or copy
    with pytest.raises(checkpoints.CheckpointError, match=r"student\.pt is truncated, corrupt or not a PyTorch file "
                       r"\([\d,]+ bytes; an interrupted download or copy\?\).*Delete .*student\.pt and save it again"):
        checkpoints.load(path, "cpu")


@pytest.mark.parametrize("content", [b"", b"hello, this is not a checkpoint\n"])
def test_an_empty_or_foreign_file_says_so(saved, content):
    path, _ = saved
    path.write_bytes(content)
    with pytest.raises(checkpoints.CheckpointError, match=r"truncated, corrupt or not a PyTorch file"):
        checkpoints.load(path, "cpu")


def test_a_pickled_model_is_refused_without_running_it(tmp_path):
    path = tmp_path / "whole_model.pt"
    torch.save(models.make_student(), path)  # the whole object, not weights: loading it could run code
    with pytest.raises(checkpoints.CheckpointError, match=r"not a course checkpoint: it holds Python objects.*"
                                                          r"torch\.save\(model\)"):
        checkpoints.load(path, "cpu")


def test_weights_of_another_architecture_say_so(saved):
    path, _ = saved
    blob = torch.load(path, weights_only=True)
    blob["meta"]["arch"]["widths"] = list(models.TEACHER_WIDTHS)  # the weights are a student's
    torch.save(blob, path)
    with pytest.raises(checkpoints.CheckpointError, match=r"holds weights for another architecture.*RuntimeError"):
        checkpoints.load(path, "cpu")
    blob["meta"]["arch"] = {"layers": 50}  # a description the course does not know
    torch.save(blob, path)
    with pytest.raises(checkpoints.CheckpointError, match=r"another architecture .*\(KeyError: 'widths'\)"):
        checkpoints.load(path, "cpu")


def test_the_shipped_teacher_missing_from_a_partial_clone(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "PRETRAINED_TEACHER", tmp_path / "pretrained" / "teacher.pt")
    with pytest.raises(FileNotFoundError, match=r"shipped with the course is missing .*partial.*"
                                                r"git checkout -- data/pretrained/teacher\.pt"):
        checkpoints.load_pretrained_teacher("cpu")


def test_the_shipped_teacher_corrupt_points_to_git(tmp_path, monkeypatch):
    broken = tmp_path / "teacher.pt"
    broken.write_bytes(checkpoints.PRETRAINED_TEACHER.read_bytes()[:1000])
    monkeypatch.setattr(checkpoints, "PRETRAINED_TEACHER", broken)
    with pytest.raises(checkpoints.CheckpointError, match=r"truncated.*git checkout -- data/pretrained/teacher\.pt"):
        checkpoints.load_pretrained_teacher("cpu")


# ----------------------------------------------------------------------------- nothing half-written

class Interrupted(KeyboardInterrupt):
    """What a learner's 'interrupt the kernel' raises in the middle of a write."""


def _half_then(exc):
    def write(tmp):
        tmp.write_bytes(b"half a file")
        raise exc
    return write


def test_an_interrupted_checkpoint_save_leaves_the_old_file(saved, monkeypatch):
    path, good = saved
    real_save = torch.save

    def interrupted_save(obj, f):
        real_save(obj, f)
        with open(f, "r+b") as fh:  # the write had got this far ...
            fh.truncate(len(good) // 3)
        raise Interrupted()  # ... when the kernel was interrupted

    monkeypatch.setattr(checkpoints.torch, "save", interrupted_save)
    with pytest.raises(Interrupted):
        checkpoints.save(models.make_teacher(), path)
    assert path.read_bytes() == good  # the old checkpoint, whole
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    monkeypatch.setattr(checkpoints.torch, "save", real_save)
    model, meta = checkpoints.load(path, "cpu")
    assert meta["test_acc"] == 0.5


def test_an_interrupted_first_write_leaves_no_file(tmp_path):
    with pytest.raises(Interrupted):
        files.write_atomic(tmp_path / "results" / "new.json", _half_then(Interrupted()))
    assert list((tmp_path / "results").iterdir()) == []


@pytest.mark.parametrize("code, says", [(errno.EROFS, r"is read-only here\. Set COURSE_WORK_DIR"),
                                        (errno.EACCES, r"is read-only here\. Set COURSE_WORK_DIR"),
                                        (errno.ENOSPC, r"the disk holding .* is full\. Free some space \(`make clean`")])
def test_a_read_only_or_full_folder_names_the_folder_and_the_fix(tmp_path, monkeypatch, code, says):
    target = tmp_path / "out.json"
    target.write_text("the old figures")
    with pytest.raises(files.WriteError, match=r"Could not write .*out\.json .*" + says):
        files.write_atomic(target, _half_then(OSError(code, "simulated")))
    assert target.read_text() == "the old figures" and [p.name for p in tmp_path.iterdir()] == ["out.json"]
    # the same through results.save (as root, chmod cannot make a folder read-only: the error is injected)
    monkeypatch.setenv("COURSE_RESULTS_DIR", str(tmp_path))
    monkeypatch.setattr(results.Path, "write_text", lambda self, text: _half_then(OSError(code, "simulated"))(self))
    with pytest.raises(files.WriteError, match=says):
        results.save("out", {"acc": 0.9})
    assert target.read_text() == "the old figures"


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path, monkeypatch):
    from conftest import write_folder_copy

    write_folder_copy(tmp_path, TINY)
    monkeypatch.setattr(data, "write_atomic", lambda path, write: _raise(files.WriteError(f"Could not write {path}")))
    with pytest.warns(UserWarning, match=r"not cached, so the next run decodes them again\. Could not write"):
        d = data.load_cifar10("cpu", root=tmp_path, folder_per_class=TINY)
    assert len(d.train_images) == 60 and not (tmp_path / "cache").exists()


def _raise(err):
    raise err


# ----------------------------------------------------------------------------- a full disk (review 2.21-2.23)
# torch.save on a full disk raises RuntimeError ("[enforce fail at inline_container.cc] unexpected pos ..."), not
# OSError. Tried twice: on a real tiny tmpfs where this machine lets us mount one (root, as in CI), and with
# torch.save writing to /dev/full, which fails every write with ENOSPC and so raises torch's own error.

@pytest.fixture
def tiny_disk(tmp_path):
    """A folder on a real 64 KB tmpfs (unmounted afterwards); skipped where mounting is not allowed."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:80]})")
    try:
        yield mount
    finally:  # lazily if a failed test's traceback still holds a file open there
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(mount)], check=True)


def _to_dev_full(real_save):
    """torch.save that writes into /dev/full: the very error torch raises on a full disk."""
    def save(obj, f):
        real_save(obj, "/dev/full")
    return save


needs_dev_full = pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="no /dev/full here")


def _small_net(width=4):
    torch.manual_seed(0)
    return models.Net(models.NetConfig(widths=(width, 8, 8)))


def test_a_cache_on_a_full_disk_only_costs_time_real_tmpfs(tiny_disk, monkeypatch):
    from conftest import write_folder_copy

    root = tiny_disk.parent
    write_folder_copy(root, TINY)
    (root / "cache").symlink_to(tiny_disk)  # the cache folder is the tiny disk: 80 images need 240 KB
    with pytest.warns(UserWarning, match=r"not cached, so the next run decodes them again\. Could not write .*"
                                         r"disk holding .* is full"):
        d = data.load_cifar10("cpu", root=root, folder_per_class=TINY)
    assert len(d.train_images) == 60 and list(tiny_disk.iterdir()) == []  # loaded; no temporary file left


@needs_dev_full
def test_a_cache_on_a_full_disk_only_costs_time_torch_error(tiny_root, monkeypatch):
    monkeypatch.setattr(data.torch, "save", _to_dev_full(torch.save))
    with pytest.warns(UserWarning, match=r"not cached.*PyTorch's writer stopped part-way \(RuntimeError: .*"
                                         r"full disk.*`make clean`"):
        d = data.load_cifar10("cpu", root=tiny_root, folder_per_class=TINY)
    assert len(d.test_images) == 20 and list((tiny_root / "cache").iterdir()) == []


def test_a_checkpoint_on_a_full_disk_says_so_and_keeps_the_old_one_real_tmpfs(tiny_disk):
    path = checkpoints.save(_small_net(), tiny_disk / "student.pt", test_acc=0.42)
    good = path.read_bytes()
    with pytest.raises(files.WriteError, match=r"Could not write .*student\.pt.*disk holding .* is full.*make clean"):
        checkpoints.save(models.make_student(), path)  # about 1 MB: does not fit
    assert path.read_bytes() == good and [p.name for p in tiny_disk.iterdir()] == ["student.pt"]
    assert checkpoints.load(path, "cpu")[1]["test_acc"] == 0.42
    with pytest.raises(files.WriteError, match=r"disk holding .* is full"):  # JSON results: the same advice
        files.write_atomic(tiny_disk / "big.json", lambda tmp: tmp.write_text("x" * 300_000))


@needs_dev_full
@pytest.mark.parametrize("size", ["small", "large"])  # torch fails differently: at close / part-way
def test_a_checkpoint_on_a_full_disk_says_so_torch_error(saved, monkeypatch, size):
    path, good = saved
    monkeypatch.setattr(checkpoints.torch, "save", _to_dev_full(torch.save))
    model = _small_net(1) if size == "small" else models.make_student()
    with pytest.raises(files.WriteError, match=r"Could not write .*student\.pt: PyTorch's writer stopped part-way "
                                               r"\(RuntimeError: .*\).*full disk.*MB free there now.*make clean"):
        checkpoints.save(model, path)
    assert path.read_bytes() == good and [p.name for p in path.parent.iterdir()] == [path.name]


def test_other_runtime_errors_of_a_writer_are_not_called_a_full_disk(tmp_path):
    with pytest.raises(RuntimeError, match="a bug in the writer") as caught:
        files.write_atomic(tmp_path / "x.pt", _half_then(RuntimeError("a bug in the writer")))
    assert not isinstance(caught.value, files.WriteError) and list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- orphaned temporary files (review 1.9)

def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_files_of_killed_kernels_are_swept_when_the_cache_is_next_used(tiny_root):
    import os

    data.load_cifar10("cpu", root=tiny_root, folder_per_class=TINY)  # a valid cache exists
    cache = tiny_root / "cache"
    dead, alive = _dead_pid(), os.getppid()
    orphan = cache / f".cifar10-folder-cifar10-jpeg.pt.{dead}.tmp"  # a kernel SIGKILLed mid-write
    young = cache / f".checkpoint.pt.{dead}.tmp"  # just written: maybe another machine's writer on a shared disk
    busy = cache / f".cifar10-folder-cifar10-jpeg.pt.{alive}.tmp"  # a process still writing it
    other = cache / "notes.tmp"
    for p in (orphan, young, busy, other):
        p.write_bytes(b"half a cache")
    old = __import__("time").time() - 3600
    for p in (orphan, busy, other):
        os.utime(p, (old, old))
    data.load_cifar10("cpu", root=tiny_root, folder_per_class=TINY)  # read from the cache: nothing written
    assert not orphan.exists() and young.exists() and busy.exists() and other.exists()
    assert files.sweep_stale(cache, older_than=0) == [young]


# ----------------------------------------------------------------------------- data, devices, settings, memory

def test_no_data_and_no_network_says_where_to_get_it(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(data, "TorchvisionCIFAR10", offline)
    with pytest.raises(data.DataError, match=r"(?s)CIFAR-10 was not found under .* could not be downloaded "
                                             r"\(URLError.*Two ways to get it.*cifar10-jpeg\.tar\.gz"):
        data.load_cifar10("cpu", root=tmp_path)


@pytest.mark.parametrize("name, says", [("cuda:99", "no such CUDA GPU here"), ("gpu", "not a device PyTorch knows"),
                                        ("xla", "the course runs on cpu, cuda or mps")])
def test_a_device_this_machine_lacks_is_named_with_the_ones_it_has(monkeypatch, name, says):
    monkeypatch.setenv("COURSE_DEVICE", name)
    with pytest.raises(ValueError, match=rf"COURSE_DEVICE='{name}'.*{says}.*This machine has cpu"):
        config.get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_on_a_laptop(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE='cuda', but there is no such CUDA GPU here"):
        config.get_device()


def test_an_unknown_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"COURSE_PROFILE must be one of \('quick', 'full', 'demo'\), got 'fast'"):
        config.get_profile()


def _paths_in_a_fresh_kernel(env: dict, cwd) -> list[str]:
    import os
    import subprocess
    import sys

    code = "from course_utils import config, results; print(config.WORK_DIR); print(config.DATA_DIR)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, cwd=cwd, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def test_an_empty_work_or_data_dir_variable_counts_as_unset(tmp_path):
    """Review 2.10, 2.11: `export COURSE_WORK_DIR=$WORK` with WORK unset wrote a 185 MB cache into notebooks/."""
    assert _paths_in_a_fresh_kernel({"COURSE_WORK_DIR": "", "COURSE_DATA_DIR": "  "}, tmp_path) == \
        [str(config.ROOT / "data")] * 2


def test_an_empty_results_variable_counts_as_unset(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "WORK_DIR", tmp_path)
    monkeypatch.setenv("COURSE_RESULTS_DIR", "")
    assert results.save("probe", {"acc": 0.5}) == tmp_path / "results" / "probe.json"


def test_a_data_dir_that_does_not_exist_is_named_not_created(tmp_path, monkeypatch):
    """Review 2.8: torchvision created a mistyped COURSE_DATA_DIR and would have downloaded 170 MB into it."""
    missing = tmp_path / "shared" / "cifar-typo"
    monkeypatch.setenv("COURSE_DATA_DIR", str(missing))
    monkeypatch.setattr(config, "DATA_DIR", missing)
    monkeypatch.setattr(data, "TorchvisionCIFAR10", lambda *a, **k: _raise(AssertionError("a download was tried")))
    with pytest.raises(data.DataError, match=r"COURSE_DATA_DIR='.*cifar-typo' does not exist, so the course does not "
                                             r"create it or download CIFAR-10 into it\. Check the path \(a typo\?\).*"
                                             r"unset COURSE_DATA_DIR"):
        data.load_cifar10("cpu")
    assert not (tmp_path / "shared").exists()
    with pytest.raises(data.DataError, match=r"the data folder '.*nowhere' does not exist.*pass a folder that exists"):
        data.load_cifar10("cpu", root=tmp_path / "nowhere")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("value", ["full", "full ", " FULL", "Full\t"])
def test_the_full_profile_without_cuda_warns_and_says_how_to_switch(monkeypatch, value):
    """Review 2.2: COURSE_PROFILE='full ' on a CPU started hours of training without a word."""
    monkeypatch.setenv("COURSE_PROFILE", value)
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    with pytest.warns(config.SlowProfileWarning, match=r"COURSE_PROFILE=full runs the GPU recipe .* on cpu, without a "
                                                       r"CUDA GPU: expect hours.*unset COURSE_PROFILE \(or set "
                                                       r"COURSE_PROFILE=quick\) and restart the kernel"):
        assert config.get_profile() == "full"


@pytest.mark.parametrize("value", ["Quick", " quick\n", "DEMO"])
def test_a_profile_is_read_whatever_its_case_and_spaces(monkeypatch, value):
    monkeypatch.setenv("COURSE_PROFILE", value)
    assert config.get_profile() == value.strip().lower()


class OutOfMemoryNet(nn.Module):
    """A model whose forward pass fails as a GPU does when a batch does not fit."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_running_out_of_gpu_memory_suggests_the_quick_profile_or_a_smaller_batch():
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    loader = data.Loader(x, torch.zeros(64, dtype=torch.long), batch_size=32)
    with pytest.raises(train.GPUMemoryError, match=r"while training at batch size 32\. Use the quick profile "
                                                    r"\(COURSE_PROFILE=quick.*smaller batch \(e\.g\. 16\)"):
        train.fit(OutOfMemoryNet(), loader, epochs=1, verbose=False, whiten_bias_epochs=None)
    with pytest.raises(train.GPUMemoryError, match=r"while predicting at batch size 1000"):
        train.predict(OutOfMemoryNet(), x)


# ----------------------------------------------------------------------------- re-running gives the same results

def test_loading_twice_gives_the_same_tensors_the_second_time_from_the_cache(tmp_path, monkeypatch):
    from conftest import write_folder_copy

    write_folder_copy(tmp_path, TINY)
    first = data.load_cifar10("cpu", root=tmp_path, folder_per_class=TINY)
    monkeypatch.setattr(data, "_decode", lambda path: _raise(AssertionError("decoded again")))
    again = data.load_cifar10("cpu", root=tmp_path, folder_per_class=TINY)
    assert torch.equal(first.train_images, again.train_images) and torch.equal(first.test_labels, again.test_labels)
    shutil.rmtree(tmp_path / "cache")  # a restart with the cache gone: the same tensors, decoded afresh
    monkeypatch.undo()
    assert torch.equal(data.load_cifar10("cpu", root=tmp_path, folder_per_class=TINY).train_images, first.train_images)


def test_a_study_run_twice_in_one_kernel_trains_the_same_students():
    g = torch.Generator().manual_seed(0)
    ytr, yte = torch.arange(10).repeat(6), torch.arange(10).repeat(8)
    cifar = data.CIFAR10(torch.randint(0, 256, (60, 3, 32, 32), generator=g, dtype=torch.uint8), ytr,
                         torch.randint(0, 256, (80, 3, 32, 32), generator=g, dtype=torch.uint8), yte, source="synthetic")
    study = distill_study.Study(labelled_per_class=4, epochs=2, batch_size=20, seeds=1, val_per_class=3,
                                test_per_class=None, lr={arm: 1.0 for arm in distill_study.ARMS})
    torch.manual_seed(0)
    teacher = models.make_student(whiten_with=cifar.train_images).eval()
    runs = []
    for _ in range(2):  # the notebook's cells run twice, in one kernel, after other work changed the global RNG
        torch.rand(7)
        labelled, _, _ = distill_study.split(cifar, study)
        cache = distill_study.CachedTeacher(teacher)
        student, _ = distill_study.train_arm("blended", 0, labelled, study, 0.1, cache)
        runs.append(torch.cat([p.detach().flatten() for p in student.parameters()]))
    assert torch.equal(runs[0], runs[1])


# ----------------------------------------------------------------------------- bad inputs to the data helpers (3.58, 3.60)

def _tiny_cifar():
    g = torch.Generator().manual_seed(0)
    return data.CIFAR10(torch.randint(0, 256, (60, 3, 32, 32), generator=g, dtype=torch.uint8), torch.arange(10).repeat(6),
                        torch.randint(0, 256, (20, 3, 32, 32), generator=g, dtype=torch.uint8), torch.arange(10).repeat(2),
                        source="synthetic")


def test_data_helpers_name_the_argument_at_fault():
    import numpy as np

    cifar = _tiny_cifar()
    with pytest.raises(ValueError, match=r"per_class must be a whole number of images per class, got 2\.5"):
        cifar.subset(2.5)
    assert len(cifar.subset(np.int64(2)).train_images) == 20  # a numpy whole number is a whole number
    with pytest.raises(ValueError, match=r"split must be 'train' or 'test' .*got 'val'"):
        cifar.set_aside("val", 1)
    x, y = cifar.train_images, cifar.train_labels
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match=rf"batch_size must be a whole number >= 1, got {bad}"):
            data.Loader(x, y, batch_size=bad)


def test_a_shift_larger_than_the_image_is_refused_not_wrapped_around():
    """Review 3.60: pad=40 on 32-pixel images gave negative indices, which wrapped around silently."""
    cifar = _tiny_cifar()
    with pytest.raises(ValueError, match=r"pad .* must be a whole number between 0 and 31 for \(32, 32\) images, got 40"):
        data.Loader(cifar.train_images, cifar.train_labels, pad=40)
    loader = data.Loader(cifar.train_images, cifar.train_labels, batch_size=60, pad=31)  # the largest that reflects
    x, _ = next(iter(loader))
    assert x.shape == (60, 3, 32, 32) and torch.isfinite(x).all()
