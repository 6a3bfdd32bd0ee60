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
