import pytest
import torch

from course_utils import checkpoints, models, train


def test_round_trip_with_provenance(tmp_path):
    m = models.make_student().eval()
    x = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    path = checkpoints.save(m, tmp_path / "s.pt", test_acc=0.5, data="tiny", profile="quick")
    m2, meta = checkpoints.load(path, "cpu")
    assert meta["test_acc"] == 0.5 and meta["data"] == "tiny" and meta["arch"]["widths"] == [24, 64, 96]
    assert {"date", "torch"} <= set(meta)
    assert torch.equal(train.predict(m, x), train.predict(m2, x))
    half, _ = checkpoints.load(checkpoints.save(m, tmp_path / "h.pt", half=True), "cpu")
    assert torch.allclose(train.predict(m, x), train.predict(half, x), atol=1e-2)


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No checkpoint at .*notebook 02 saves the teacher"):
        checkpoints.load(tmp_path / "nope.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"is not a course checkpoint \(expected keys 'state_dict' and 'meta'"):
        checkpoints.load(tmp_path / "other.pt")


def test_shipped_teacher_loads_with_its_provenance(cifar):
    teacher, meta = checkpoints.load_pretrained_teacher("cpu")
    assert checkpoints.PRETRAINED_TEACHER.stat().st_size < 10e6
    for key in ("test_acc", "data", "command", "profile", "train_seconds", "device"):
        assert key in meta
    assert meta["test_acc"] > 0.88
    q = cifar.subset(test_per_class=50)
    assert train.evaluate(teacher, q.test_images, q.test_labels) > 0.8


def test_describe_gives_the_provenance_in_three_lines_and_marks_what_is_missing():
    meta = {"test_acc": 0.8918, "test_acc_flip_tta": 0.9046, "data": "jpeg", "epochs": 18, "train_seconds": 5.61,
            "device": "NVIDIA H100", "profile": "full", "date": "2026-11-27"}
    assert checkpoints.describe(meta) == {
        "test accuracy": "89.18% (with flip test-time augmentation 90.46%)", "data": "jpeg",
        "trained": "18 epochs in 5.6 s on NVIDIA H100 (full profile), 2026-11-27"}
    bare = checkpoints.describe({"test_acc": float("nan"), "device": "cpu"})
    assert bare["test accuracy"].startswith("?") and bare["trained"] == "on cpu (? profile)"
