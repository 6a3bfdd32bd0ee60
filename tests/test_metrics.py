"""What the course measures beside accuracy: agreement (fidelity), copied mistakes, confusion, calibration,
throughput."""
from __future__ import annotations

import math

import pytest
import torch

from course_utils import metrics, models


def test_agreement_and_copied_errors():
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    teacher = torch.tensor([0, 1, 2, 9, 9, 9])  # wrong on the last three
    student = torch.tensor([0, 1, 7, 9, 4, 8])
    assert math.isclose(metrics.agreement(student, teacher), 3 / 6)
    out = metrics.copied_errors(student, teacher, labels)
    assert out["n"] == 3 and math.isclose(out["same_mistake"], 1 / 3, rel_tol=1e-6) \
        and math.isclose(out["student_right"], 1 / 3, rel_tol=1e-6)
    with pytest.raises(ValueError, match="same length"):
        metrics.agreement(student, teacher[:3])
    assert math.isnan(metrics.copied_errors(student, labels, labels)["same_mistake"])  # a teacher without errors


def test_confusion_counts():
    pred, labels = torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 2, 2, 1])
    cm = metrics.confusion(pred, labels, num_classes=3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 1, 2]]


def test_calibration_bins_confidence_against_accuracy():
    # four images at 0.95 confidence, all right; four at 0.55, half right
    probs = torch.tensor([[0.95, 0.05]] * 4 + [[0.55, 0.45]] * 4)
    labels = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1])
    cal = metrics.calibration(probs, labels)
    assert cal["mean_confidence"] == pytest.approx(0.75) and cal["accuracy"] == pytest.approx(0.75)
    assert [(b["lo"], b["n"]) for b in cal["bins"]] == [(0.5, 4), (0.9, 4)]
    # matching on average, off within bins: |0.55 - 0.5| and |0.95 - 1.0|, each half of the images
    assert cal["ece"] == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    perfect = metrics.calibration(torch.tensor([[1.0, 0.0]] * 3), torch.tensor([0, 0, 0]))
    assert perfect["ece"] == pytest.approx(0.0) and perfect["bins"][0]["lo"] == 0.9  # confidence 1 in the top bin


def test_throughput_is_images_over_the_best_time(monkeypatch):
    ticks = {"t": 0.0}

    def fake_clock():  # every call one second after the last: each timed pass takes 1 s
        ticks["t"] += 1.0
        return ticks["t"]

    monkeypatch.setattr(metrics.time, "perf_counter", fake_clock)
    x = torch.randint(0, 256, (48, 3, 32, 32), dtype=torch.uint8)
    assert metrics.throughput(models.make_student(), x, batch_size=16, repeats=2) == pytest.approx(48.0)
