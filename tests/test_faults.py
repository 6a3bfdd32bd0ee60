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
        images, labels = distill_study.labelled(distill_study.split(cifar, study), study, seed=0)
        answers = distill_study.RecordedTeacher(teacher, images, study, seed=0)
        student, _ = distill_study.train_arm("blended", 0, images, labels, study, answers)
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


# ----------------------------------------------------------------------------- measuring functions (review 3.61, 3.63)

def test_training_for_zero_or_negative_epochs_is_refused_not_one_silent_step():
    """Review 3.61: fit(epochs=0) and fit(epochs=-3) trained one step (total = max(1, ...))."""
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    loader = data.Loader(x, torch.arange(64) % 10, batch_size=32)
    for bad in (0, -3, 0.0, float("nan"), float("inf"), True, "2"):
        with pytest.raises(ValueError, match=r"epochs must be a number > 0 .*got"):
            train.fit(OutOfMemoryNet(), loader, epochs=bad, verbose=False, whiten_bias_epochs=None)
    import numpy as np

    net = models.make_net((4, 8, 8), whiten_with=x)
    history = train.fit(net, loader, epochs=np.float64(0.5), verbose=False)  # a numpy number is a number
    assert history.images_seen == 32


def test_evaluate_needs_one_label_per_image():
    """Review 3.63: 40 images with one label broadcast it and returned an accuracy; no image at all gave NaN."""
    x = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    net = models.make_net((4, 8, 8), whiten_with=x)
    with pytest.raises(ValueError, match=r"one label per image .*got 40 images and 1 labels"):
        train.evaluate(net, x, torch.zeros(1, dtype=torch.long))
    with pytest.raises(ValueError, match=r"at least one image, got 0 images and 0 labels"):
        train.evaluate(net, x[:0], torch.zeros(0, dtype=torch.long))


# ----------------------------------------------------------------------------- losses (review 3.19-3.26)

def test_a_loss_of_an_empty_batch_is_refused_not_nan():
    """Review 3.23 (and 3.46, which goes through it: a language model's batch of padding only)."""
    from course_utils import losses

    z, y = torch.zeros(0, 10), torch.zeros(0, dtype=torch.long)
    for loss in (lambda: losses.hard_loss(z, y), lambda: losses.distillation_loss(z, z, y),
                 lambda: losses.soft_loss(z, z), lambda: losses.soft_target_loss(z, z)):
        with pytest.raises(ValueError, match=r"student_logits hold an empty batch \(0 rows\).*mean of nothing is NaN"):
            loss()


def test_numpy_and_tensor_numbers_are_numbers_and_booleans_are_not():
    """Review 3.19 (valid numbers refused), 3.20 (T=True taken as 1), 3.21 (a 2-element T: a raw RuntimeError)."""
    import numpy as np

    from course_utils import losses

    g = torch.Generator().manual_seed(0)
    s, t, y = torch.randn(4, 10, generator=g), torch.randn(4, 10, generator=g), torch.arange(4)
    want = losses.distillation_loss(s, t, y, T=2.0, alpha=0.5)
    for T, alpha in ((np.float32(2), np.float32(0.5)), (np.int64(2), torch.tensor(0.5)), (torch.tensor(2.0), 0.5)):
        assert torch.allclose(losses.distillation_loss(s, t, y, T=T, alpha=alpha), want)
    assert torch.allclose(losses.label_smoothing_loss(s, y, np.float32(0.1)), losses.label_smoothing_loss(s, y, 0.1))
    with pytest.raises(ValueError, match=r"temperature T must be a finite number > 0, got True"):
        losses.soft_loss(s, t, T=True)
    with pytest.raises(ValueError, match=r"temperature T must be one number, got a tensor of shape \(2,\)"):
        losses.soft_loss(s, t, T=torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\]"):
        losses.distillation_loss(s, t, y, alpha=False)


def test_softmax_with_temperature_refuses_nan_and_lists_and_masks_minus_inf():
    """Review 3.24 (NaN in, NaN out, no error), 3.25 (a list: a raw TypeError)."""
    from course_utils import losses

    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"logits contain NaN or \+inf"):
            losses.softmax_with_temperature(torch.tensor([[1.0, bad, 0.0]]), 2.0)
    with pytest.raises(ValueError, match=r"logits must be a tensor .*got list: convert with torch\.tensor"):
        losses.softmax_with_temperature([1.0, 2.0])
    p = losses.softmax_with_temperature(torch.tensor([[1.0, -float("inf"), 1.0]]))
    assert torch.equal(p, torch.tensor([[0.5, 0.0, 0.5]]))  # a masked class: probability 0


def test_negative_or_non_tensor_targets_are_refused():
    """Review 3.26: soft_target_loss(z, -ones) returned a negative cross-entropy; a list, an AttributeError."""
    from course_utils import losses

    z = torch.randn(4, 10)
    with pytest.raises(ValueError, match=r"target_probs must be probabilities \(finite, >= 0\), got values from -1"):
        losses.soft_target_loss(z, -torch.ones(4, 10))
    with pytest.raises(ValueError, match=r"target_probs must be a tensor of the logits' shape \(4, 10\), got list"):
        losses.soft_target_loss(z, [[0.1] * 10] * 4)


# ----------------------------------------------------------------------------- the copier and the API (review 3.2-3.17)

def test_probabilities_rounded_to_nothing_become_uniform_with_a_warning():
    """Review 3.15: an API with decimals=0 rounds every probability below 0.5 to 0; to_targets returned all-zero rows,
    and those images silently dropped out of the loss."""
    from course_utils import copier, server

    probs = torch.tensor([[0.4, 0.35, 0.25], [0.7, 0.2, 0.1], [0.3, 0.3, 0.4]])
    rounded = server.expose(torch.log(probs), torch.zeros(3, dtype=torch.long), "probs", decimals=0)
    assert rounded.sum(1).tolist() == [0.0, 1.0, 0.0]  # the failure's cause
    with pytest.warns(UserWarning, match=r"2 of 3 answers hold no probability at all .*uniform distribution"):
        targets = copier.to_targets(rounded, "probs", num_classes=3, T=2.0)
    assert torch.allclose(targets.sum(1), torch.ones(3))
    assert torch.allclose(targets[0], torch.full((3,), 1 / 3)) and targets[1].tolist() == [1.0, 0.0, 0.0]


def test_the_copier_names_the_argument_at_fault():
    """Review 3.12, 3.13, 3.16, 3.17."""
    from course_utils import copier
    from course_utils.server import TopK

    with pytest.raises(ValueError, match=r"'label' answers are whole class indices .*got torch\.float32"):
        copier.to_targets(torch.tensor([1.7, 2.2]), "label")
    with pytest.raises(ValueError, match=r"'label' answers must lie in \[0, 9\] .*from -3 to 12"):
        copier.to_targets(torch.tensor([12, -3]), "label")
    with pytest.raises(ValueError, match=r"'logits' answers are a tensor shaped \(N, C\)"):
        copier.to_targets([[1.0, 2.0]], "logits")
    top3 = TopK(torch.tensor([[0, 1, 2]]), torch.tensor([[0.5, 0.3, 0.2]]))
    with pytest.raises(ValueError, match=r"top-k answers name classes from 0 to 2, but num_classes=2"):
        copier.to_targets(top3, "top_k", num_classes=2)
    with pytest.raises(ValueError, match=r"chunk must be a whole number of images >= 1 .*got 0"):
        copier.collect(None, torch.zeros(1, 3, 32, 32, dtype=torch.uint8), chunk=0)
    for answers in (torch.arange(5), top3, ["a", "b"]):
        with pytest.raises(ValueError, match=r"index must be a slice .* or a 1-D tensor of whole positions"):
            copier.take(answers, 1.5)
    assert copier.take(["a", "b", "c"], [2, 0]) == ["c", "a"]


def test_the_teacher_api_takes_numpy_numbers_and_names_bad_settings():
    """Review 3.2 (np.int64 budget refused), 3.5 (batch_size 0: a raw error), 3.6 (secret='abc'), 3.7 (no weights)."""
    import numpy as np

    from course_utils import server

    teacher = models.make_net((4, 8, 8))
    api = server.TeacherAPI(teacher, "probs", budget=np.int64(100), k=np.int32(2), price_per_1k=np.float32(2.5),
                            perturb=np.float64(0.1), decimals=np.int64(3))
    assert api.remaining == 100 and api.price_per_1k == 2.5 and api.k == 2
    assert api.query(torch.zeros(2, 3, 32, 32, dtype=torch.uint8)).shape == (2, 10)
    for kwargs, says in [({"batch_size": 0}, r"batch_size must be a whole number >= 1"),
                         ({"batch_size": -5}, r"batch_size must be a whole number >= 1"),
                         ({"secret": "abc"}, r"secret must be a whole number"),
                         ({"budget": True}, r"budget must be a whole number")]:
        with pytest.raises(ValueError, match=says):
            server.TeacherAPI(teacher, **kwargs)
    with pytest.raises(ValueError, match=r"model must be a trained torch\.nn\.Module with weights .*Identity without"):
        server.TeacherAPI(nn.Identity())


# ----------------------------------------------------------------------------- metrics (review 3.64, 3.65)

def test_metrics_refuse_logits_and_mismatched_lengths():
    from course_utils import metrics

    g = torch.Generator().manual_seed(0)
    logits, labels = 3 * torch.randn(40, 10, generator=g), torch.arange(40) % 10
    with pytest.raises(ValueError, match=r"calibration\(\) takes probabilities.*logits\.softmax\(1\)"):
        metrics.calibration(logits, labels)  # gave an ECE of 8.25, impossible
    assert 0 <= metrics.calibration(logits.softmax(1), labels)["ece"] <= 1
    with pytest.raises(ValueError, match=r"student_pred must be 40 classes, .*got torch\.int64 \(30,\)"):
        metrics.copied_errors(labels[:30], labels.flip(0), labels)  # gave n = 0, same_mistake NaN
    with pytest.raises(ValueError, match=r"pred must be 40 classes.*Pass predicted classes \(logits\.argmax\(1\)\)"):
        metrics.confusion(logits, labels)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\] .*from 3 to 12"):
        metrics.confusion(labels, labels + 3)


# ----------------------------------------------------------------------------- checkpoints (review 4.2, 4.6-4.8)

def test_a_web_page_saved_as_a_checkpoint_is_called_a_web_page(saved):
    """Review 4.2: '<html>404 Not Found</html>' was diagnosed as 'a whole model saved with torch.save(model)?'."""
    path, _ = saved
    path.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(checkpoints.CheckpointError, match=r"not a PyTorch file \(26 bytes, a web page.*Delete"):
        checkpoints.load(path, "cpu")


def test_a_folder_at_the_checkpoint_path_is_called_a_folder(tmp_path):
    """Review 4.3: the message said 'truncated, corrupt or not a PyTorch file (4,096 bytes ...)'."""
    (tmp_path / "teacher.pt").mkdir()
    with pytest.raises(checkpoints.CheckpointError, match=r"teacher\.pt is a folder, not a checkpoint file"):
        checkpoints.load(tmp_path / "teacher.pt", "cpu")


def _rewrite(path, change):
    blob = torch.load(path, weights_only=True)
    change(blob["state_dict"])
    torch.save(blob, path)


@pytest.mark.parametrize("change, says", [
    (lambda sd: sd.update(extra=3), r"state_dict should map names to tensors, but \['extra'\] hold other values"),
    (lambda sd: sd.update({k: torch.full_like(v, float("nan")) for k, v in sd.items() if v.is_floating_point()}),
     r"holds NaN or inf weights .*diverged"),
    (lambda sd: sd.update({k: v.to(torch.int8) for k, v in sd.items() if v.is_floating_point()}),
     r"holds torch\.int8 values for .* where the model keeps torch\.float32"),
])
def test_weights_that_would_load_wrong_are_refused(saved, change, says):
    """Review 4.6 (AttributeError), 4.7 (NaN weights and int8 weights loaded without a word)."""
    path, _ = saved
    _rewrite(path, change)
    with pytest.raises(checkpoints.CheckpointError, match=says):
        checkpoints.load(path, "cpu")


def test_a_teacher_whose_accuracy_is_not_a_number_still_loads(saved, monkeypatch, capsys):
    """Review 4.8: meta['test_acc'] = '89%' made load_teacher's own print fail."""
    path, _ = saved
    blob = torch.load(path, weights_only=True)
    blob["meta"]["test_acc"] = "89%"
    torch.save(blob, path)
    monkeypatch.setattr(checkpoints, "TEACHER_CHECKPOINT", path)
    model, meta = checkpoints.load_teacher("cpu")
    assert "'89%' test accuracy" in capsys.readouterr().out


# ----------------------------------------------------------------------------- committed results (review 4.16-4.18)

def test_a_damaged_benchmark_file_names_itself_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "BENCH_DIR", tmp_path)
    (tmp_path / "h100").mkdir()
    (tmp_path / "h100" / "03_distill.json").write_text('{"profile": "full", "acc": [0.9')  # truncated
    with pytest.raises(results.ResultsError, match=r"03_distill\.json is not valid JSON .*truncated.*git checkout --"):
        results.bench("h100/03_distill.json")
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "notebook_timings_quick.json").write_text('{"runs": [{"notebook": "00", "ok": true, "seconds": 9}]}')
    (tmp_path / "cpu" / "notebook_timings_demo.json").write_text("{'runs': }")
    with pytest.warns(UserWarning, match=r"the demo run times are left out: .*notebook_timings_demo\.json is not valid"):
        assert results.run_times() == {"00": {"quick": 9}}  # the welcome notebook still shows what it can
    with pytest.raises(results.ResultsError, match=r"lacks \['chosen_lr'\]: .*another version"):
        results.read_json(tmp_path / "cpu" / "notebook_timings_quick.json", needs=("chosen_lr",))


# ----------------------------------------------------------------------------- statistics and replay (lead's fixes, rechecked)

def test_the_review_s_statistics_calls_get_a_message_or_an_honest_label():
    """Review 3.29-3.33, as the review made the calls."""
    from course_utils import stats

    d = [0.004, -0.003, 0.006, 0.001, -0.002]
    assert "5% interval" in stats.format_interval(stats.paired_summary(d, confidence=0.05))  # says what it is
    for call in (lambda: stats.paired_summary([0.01, float("nan"), 0.03]), lambda: stats.t_interval([1, 2, 3], 95),
                 lambda: stats.t_interval([1, 2, 3], 0), lambda: stats.t_quantile(0),
                 lambda: stats.paired_summary("0.1"), lambda: stats.paired_summary(["a", "b"]),
                 lambda: stats.paired_summary([[0.1, 0.2], [0.3, 0.4]])):
        with pytest.raises(ValueError):
            call()


def test_a_replay_recorded_by_another_version_names_the_file_and_the_fix(tmp_path, monkeypatch):
    """Review 4.14: a value of another shape (a record with a field since removed) failed in the notebook's cell."""
    from course_utils import replay

    monkeypatch.setattr(replay, "REPLAY_DIR", tmp_path)
    replay.record("study", distill_study.get_study("quick"))
    blob = torch.load(replay.path_of("study"), weights_only=True)
    blob["value"]["fields"]["retired_setting"] = 3
    torch.save(blob, replay.path_of("study"))
    with pytest.raises(ValueError, match=r"study\.pt was recorded by another version of the course.*COURSE_RECORD_REPLAY=1"):
        replay.load("study")


def test_nothing_in_the_project_loads_pickles_unsafely():
    """Review 4.15, 5.1: one torch.load that allowed any pickle ran a replay file's payload (`grep` finds none)."""
    import subprocess

    unsafe = "weights_only" + "=False"
    tracked = subprocess.run(["git", "ls-files"], cwd=config.ROOT, capture_output=True, text=True, check=True).stdout.split()
    hits = [f for f in tracked if f.endswith((".py", ".ipynb", ".md", ".cfg", ".toml", ".txt"))
            and unsafe in (config.ROOT / f).read_text(errors="replace")]
    assert hits == []


# ----------------------------------------------------------------------------- learner habits (review 1.1-1.3)
# After a kernel restart a learner often runs just the exercise cell. Each exercise cell, run alone in a fresh
# kernel, either checks the answer (its imports are in the cell) or, when it needs what earlier cells computed, says
# so: it imports its checker, which installs the hint "Run the set-up cells first (Run > Run All Above)".
EXERCISE_NOTEBOOKS = sorted(p.stem for p in (config.ROOT / "notebooks").glob("*.ipynb"))  # every notebook


def _exercise_cells(name):
    import nbformat

    nb = nbformat.read(config.ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith("# Exercise")]


def _run_in_a_fresh_kernel(source: str) -> str:
    import os

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(cwd=str(config.ROOT / "notebooks"), env={**os.environ, "COURSE_PROFILE": "quick"})
    out = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            out.append(f"{msg['content']['ename']}: {msg['content']['evalue']}\n")

    try:
        kc.execute_interactive(source, output_hook=hook, timeout=120)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return "".join(out)


@pytest.mark.parametrize("name, index", [(n, i) for n in EXERCISE_NOTEBOOKS for i in range(len(_exercise_cells(n)))])
def test_an_exercise_cell_run_after_a_kernel_restart_checks_or_says_what_to_run(name, index, capsys):
    """Each cell in a namespace of its own, as after a restart (in this process: fast)."""
    source = _exercise_cells(name)[index]
    try:
        exec(compile(source, f"{name} exercise {index + 1}", "exec"), {})
    except NameError as err:  # it needs what earlier cells computed: it must say so, and have installed the hint
        imports = source.index("from course_utils import checks")
        assert "run the cells above first" in source[:imports], source
        code_before = [line for line in source[:imports].splitlines() if not line.lstrip().startswith("#")]
        assert not any(err.name in line for line in code_before), f"{err.name} is used before the checker's import"
    else:
        assert capsys.readouterr().out.startswith("Not yet: ")


def test_importing_the_checkers_installs_the_set_up_hint(monkeypatch, capsys):
    import importlib

    import IPython

    from course_utils import checks, session

    class Shell:
        handlers = {}

        def set_custom_exc(self, types, handler):
            self.handlers[types] = handler

        def showtraceback(self, exc_tuple, tb_offset=None):
            print(f"{exc_tuple[0].__name__}: {exc_tuple[1]}")

    shell = Shell()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    importlib.reload(checks)
    shell.handlers[(NameError,)](shell, NameError, NameError("name 'cm' is not defined"), None)
    assert session.SETUP_HINT in capsys.readouterr().out


def test_in_a_real_restarted_kernel_an_exercise_says_what_to_run_first():
    """Review 1.2, in a real kernel: notebook 02's first exercise reads the confusion matrix of section 4."""
    out = _run_in_a_fresh_kernel(_exercise_cells("02_train_the_teacher")[0])
    assert "NameError: name 'cm' is not defined" in out and "Run the set-up cells first (Run > Run All Above)" in out


def test_a_table_reads_numpy_numbers_as_numbers():
    """numpy scalars are numbers wherever floats are: averaged, right-aligned, NaN shown as '-'."""
    import numpy as np

    from course_utils import show

    text = show.format_table([{"arm": "hard", "acc": [np.float32(0.25), np.float32(0.75)], "n": np.int64(5)},
                              {"arm": "blended", "acc": np.float32("nan"), "n": np.int64(12)}],
                             {"arm": "arm", "acc": ("acc", ".2f"), "seeds": "n"})
    assert text.splitlines()[2:] == ["hard     0.50      5", "blended     -     12"]
