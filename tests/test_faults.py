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
