"""Notebook 04's study: the query stream, the step count, the paired copies, the synthetic transfer set."""
from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from course_utils import blackbox_study
from test_server import C, _images


def test_query_stream_is_a_fixed_prefix_order():
    s = blackbox_study.query_stream(100, 30, seed=0)
    assert s.shape == (30,) and len(set(s.tolist())) == 30 and 0 <= s.min() and s.max() < 100
    assert torch.equal(blackbox_study.query_stream(100, 10, seed=0), s[:10])  # a bigger budget contains the smaller
    assert not torch.equal(blackbox_study.query_stream(100, 30, seed=1), s)
    for n in (0, 101):
        with pytest.raises(ValueError, match=r"needs 0 < n <= 100; got n="):
            blackbox_study.query_stream(100, n)


def _study(**kw):
    return replace(blackbox_study.STUDIES["quick"], **kw)


def test_steps_for_passes_with_a_floor():
    study = _study(epochs=10, min_steps=200, batch_size=1024)
    assert blackbox_study.steps_for(50_000, study) == math.ceil(10 * 50_000 / 1024)  # 489: the passes decide
    assert blackbox_study.steps_for(5_000, study) == 200  # 10 passes are only 49 steps: the floor decides
    # a batch never exceeds the budget: 3 passes of one batch
    assert blackbox_study.steps_for(500, _study(epochs=3, min_steps=0, batch_size=1024)) == 3


def test_each_profile_buys_the_budgets_its_sections_read():
    for profile in ("quick", "full"):
        study = blackbox_study.get_study(profile)
        assert study.shift_budget in study.budgets and study.quality_budget in study.budgets
        assert list(study.budgets) == sorted(study.budgets) and set(study.exposures) <= {"logits", "probs", "top_k", "label"}


def test_train_copy_is_paired_by_seed():
    x = _images(96)
    labels = torch.arange(96) % C
    probs = torch.softmax(torch.randn(96, C, generator=torch.Generator().manual_seed(1)), 1)
    study = _study(batch_size=32, epochs=1, min_steps=4)  # 96 / 32 = 3 steps per pass; at least 4
    a, h = blackbox_study.train_copy(x, labels, 3, study, widths=(8, 8, 8))
    assert h.images_seen == 4 * 32
    b, _ = blackbox_study.train_copy(x, labels, 3, study, widths=(8, 8, 8))
    for pa, pb in zip(a.parameters(), b.parameters()):  # same seed, same targets: the same copy
        assert torch.equal(pa, pb)
    c, _ = blackbox_study.train_copy(x, probs, 3, study, widths=(8, 8, 8))  # only the targets differ
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))
    d, h = blackbox_study.train_copy(x, labels, 3, study, widths=(8, 8, 8), epochs=2)  # epochs replace steps_for
    assert h.images_seen == 6 * 32


def test_synthetic_images():
    a, b = blackbox_study.synthetic_images(4, seed=1), blackbox_study.synthetic_images(4, seed=1)
    assert a.dtype == torch.uint8 and a.shape == (4, 3, 32, 32) and torch.equal(a, b)
    assert int(a.min()) == 0 and int(a.max()) == 255
