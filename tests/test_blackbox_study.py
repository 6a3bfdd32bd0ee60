"""Notebooks 04 and 04b's study: the copier's data, one copy, the runs; the full profile's path shrunk to seconds."""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from course_utils import blackbox_study as bs
from course_utils import copier, data, losses, models, train
from test_server import C, _images


def test_query_stream_is_a_fixed_prefix_order():
    s = bs.query_stream(100, 30, seed=0)
    assert s.shape == (30,) and len(set(s.tolist())) == 30 and 0 <= s.min() and s.max() < 100
    assert torch.equal(bs.query_stream(100, 10, seed=0), s[:10])  # a bigger budget contains the smaller
    assert not torch.equal(bs.query_stream(100, 30, seed=1), s)
    assert torch.equal(bs.query_stream(100, np.int64(10)), s[:10])  # a numpy whole number is a whole number
    for n in (0, 101, 200.5, 1.5, True, "10"):  # the message itself formats, whatever came
        with pytest.raises(ValueError, match=r"needs a whole number 0 < n <= 100; got n="):
            bs.query_stream(100, n)


def _study(**kw):
    return replace(bs.STUDIES["quick"], **kw)


def test_steps_for_passes_with_a_floor():
    study = _study(epochs=10, min_steps=200, batch_size=1024)
    assert bs.steps_for(50_000, study) == math.ceil(10 * 50_000 / 1024)  # 489: the passes decide
    assert bs.steps_for(5_000, study) == 200  # 10 passes are only 49 steps: the floor decides
    assert bs.steps_for(500, _study(epochs=3, min_steps=0, batch_size=1024)) == 3  # a batch never exceeds the budget


def test_each_profile_validates_the_arms_its_sections_read():
    for profile in ("quick", "full"):
        study, limits = bs.get_study(profile), bs.get_limits(profile)
        assert list(study.budgets) == sorted(study.budgets) and set(study.exposures) <= {"probs", "top_k", "label"}
        assert study.transfer_budget in study.budgets and set(study.transfer_seeds) <= set(study.seeds)
        assert len(study.seeds) >= 5 and len(limits.seeds) >= 3
    quick, budget = bs.get_study("quick"), bs.get_limits("quick").budget  # choices made on validation, for every arm
    needed = [bs.arm("label", b) for b in (bs.OWN, *quick.budgets, budget)] + [bs.arm("probs", budget)]
    needed += [bs.arm(e, quick.budgets[0]) for e in quick.exposures]
    assert set(needed) <= set(quick.choices), f"missing choices: {sorted(set(needed) - set(quick.choices))}"


def test_choice_falls_back_to_the_studys_rate():
    study = _study(choices={"label@250": {"lr": 6.0, "passes": 20}})
    assert bs.choice(study, "label", 250) == (6.0, 20.0)
    assert bs.choice(study, "probs", 250) == (study.lr, None)
    assert bs.arm("label", bs.OWN) == "own labels" and bs.arm("top_k", 1000) == "top_k@1000"


def test_mixed_loss_trains_labels_with_cross_entropy_and_distributions_with_the_soft_term():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(6, C, generator=g, dtype=torch.float64)
    labels = torch.tensor([1, 2, 3, 4, 5, 6])
    probs = torch.softmax(torch.randn(6, C, generator=g, dtype=torch.float64), 1)
    T = 2.0
    loss = copier.mixed_loss(T)
    assert torch.allclose(loss(z, labels), losses.hard_loss(z, labels))
    assert torch.allclose(loss(z, probs), copier.student_loss(T)(z, probs))
    rows = torch.cat([torch.nn.functional.one_hot(labels[:3], C).double(), probs[3:]])  # 3 labels, 3 distributions
    by_hand = torch.cat([torch.nn.functional.cross_entropy(z[:3], labels[:3], reduction="none"),
                         -T ** 2 * (probs[3:] * torch.log_softmax(z[3:] / T, 1)).sum(1)]).mean()
    assert torch.allclose(loss(z, rows), by_hand)


def _cifar(per_class_train=30, per_class_test=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    ytr = torch.arange(10).repeat_interleave(per_class_train)
    yte = torch.arange(10).repeat_interleave(per_class_test)
    xtr = torch.randint(0, 256, (len(ytr), 3, 32, 32), dtype=torch.uint8, generator=g)
    xte = torch.randint(0, 256, (len(yte), 3, 32, 32), dtype=torch.uint8, generator=g)
    xtr[:, 0, :4, :4] = (ytr * 25).view(-1, 1, 1).to(torch.uint8)  # a learnable corner
    xte[:, 0, :4, :4] = (yte * 25).view(-1, 1, 1).to(torch.uint8)
    return data.CIFAR10(xtr, ytr, xte, yte, source="synthetic")


def _tiny(profile: str):
    """The profile's study and limits, shrunk to seconds on a CPU: the same fields, tiny sizes."""
    study = replace(bs.get_study(profile), labelled_per_class=2, budgets=(20, 40), seeds=(0, 1),
                    transfer_budget=20, transfer_seeds=(0, 1), val_per_class=3, test_per_class=4, batch_size=16,
                    min_steps=2, choices={"own labels": {"lr": 1.5, "passes": 2}, "label@20": {"lr": 1.5, "passes": 2}})
    limits = replace(bs.get_limits(profile), budget=20, seeds=(0, 1), quality_epochs=(0.5,),
                     capacity_seeds=bs.get_limits(profile).capacity_seeds[:2],
                     quality_widths=(8, 8, 8) if profile == "quick" else models.TEACHER_WIDTHS,
                     quality_train_per_class=3 if profile == "quick" else None)
    return study, limits


def test_the_split_keeps_every_set_apart():
    cifar = _cifar()
    study, _ = _tiny("quick")
    sp = bs.split(cifar, study)
    assert len(sp.stream) == max(study.budgets) and len(sp.stream) + len(sp.pool_images) == len(cifar.train_images)
    assert len(sp.val_images) == 30 and len(sp.test_images) == 40 and len(sp.unseen_images) == 300 - 70

    def keys(x):
        return {bytes(img.flatten()[:64].tolist()) for img in x}
    assert not keys(sp.stream) & keys(sp.pool_images)
    assert not keys(sp.val_images) & keys(sp.test_images) and not keys(sp.test_images) & keys(sp.unseen_images)
    a, b = bs.labelled(sp, 0, study), bs.labelled(sp, 1, study)
    assert torch.equal(torch.bincount(a[1], minlength=10), torch.full((10,), 2))  # per class
    assert not torch.equal(a[0], b[0]) and not keys(a[0]) & keys(sp.stream)  # each seed its own, none in the stream


def test_copier_dataset_puts_labels_beside_answers():
    own = (_images(4), torch.tensor([0, 1, 2, 3]))
    x, y = bs.copier_dataset(own, _images(2, seed=1), torch.tensor([5, 6]))
    assert len(x) == 6 and y.tolist() == [0, 1, 2, 3, 5, 6]
    probs = torch.full((2, C), 0.1)
    _, y = bs.copier_dataset(own, _images(2, seed=1), probs)
    assert y.shape == (6, C) and y[:4].argmax(1).tolist() == [0, 1, 2, 3] and (y[:4].amax(1) == 1).all()
    assert bs.copier_dataset(own)[1] is own[1]  # no answers: its own labels alone


def test_train_copy_is_paired_by_seed():
    x = _images(96)
    labels = torch.arange(96) % C
    probs = torch.softmax(torch.randn(96, C, generator=torch.Generator().manual_seed(1)), 1)
    study = _study(batch_size=32, epochs=1, min_steps=4)  # 96 / 32 = 3 steps per pass; at least 4
    a, h = bs.train_copy(x, labels, 3, study, widths=(8, 8, 8))
    assert h.images_seen == 4 * 32
    b, _ = bs.train_copy(x, labels, 3, study, widths=(8, 8, 8))
    for pa, pb in zip(a.parameters(), b.parameters()):  # same seed, same targets: the same copy
        assert torch.equal(pa, pb)
    c, _ = bs.train_copy(x, probs, 3, study, widths=(8, 8, 8))  # only the targets differ
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))
    d, h = bs.train_copy(x, labels, 3, study, widths=(8, 8, 8), epochs=2)  # epochs replace steps_for
    assert h.images_seen == 6 * 32


def test_summaries_pair_by_seed():
    pred = torch.zeros(4, dtype=torch.int64)
    mk = lambda arm, seed, acc, fid: bs.Copy(arm, seed, acc, fid, 10, 160, 1.0, pred)  # noqa: E731
    copies = [mk("own labels", s, 0.3 + 0.01 * s, 0.3) for s in range(3)] + \
             [mk("label@3000", s, 0.6 + 0.02 * s, 0.62) for s in (2, 1, 0)]  # any order: paired by seed
    s = bs.paired(copies, "label@3000", "own labels")
    assert s["n"] == 3 and s["diffs"] == pytest.approx([0.3, 0.31, 0.32])
    study = _study(budgets=(3000,))
    result = bs.primary(copies, study, teacher_acc=0.9)
    assert result["primary"]["mean"] == pytest.approx(31.0) and result["primary"]["n_seeds"] == 3
    assert result["fidelity_over_floor"]["mean"] == pytest.approx(32.0) and result["accuracy"]["teacher"] == 90.0
    assert result["accuracy"]["own_labels"] == pytest.approx(31.0) and result["accuracy"]["copy"] == pytest.approx(62.0)
    pairs = [{"pair": "a - b", "mean": 1.0, "lo": -1.0, "hi": 3.0, "seeds": 3}]
    assert "cannot order" in bs.order_reading(pairs)
    assert "tell apart: a - b" in bs.order_reading([{**pairs[0], "lo": 0.5}])


def test_at_budget_reads_a_curve_in_log_queries():
    assert math.isclose(bs.at_budget([100, 10_000], [0.5, 0.7], 1000), 0.6)
    assert bs.at_budget([100, 10_000], [0.5, 0.7], 10 ** 6) == 0.7
    with pytest.raises(ValueError, match="increasing order"):
        bs.at_budget([1000, 100], [0.5, 0.3], 500)
    for values, queries in (([0.5, float("nan")], 500), ([0.5, 0.7], float("nan"))):
        with pytest.raises(ValueError, match="finite"):
            bs.at_budget([100, 1000], values, queries)


def test_synthetic_images():
    a, b = bs.synthetic_images(4, seed=1), bs.synthetic_images(4, seed=1)
    assert a.dtype == torch.uint8 and a.shape == (4, 3, 32, 32) and torch.equal(a, b)
    assert int(a.min()) == 0 and int(a.max()) == 255


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_every_run_of_both_notebooks_end_to_end_shrunk(profile, monkeypatch):
    """The notebooks' calls in order, on a tiny data set: the full profile's path (its twin, its teacher-sized
    copies, its teacher-sized cheap teachers) runs on a CPU in seconds, so no full-only branch breaks unseen."""
    # the teacher's recipe at one pass instead of 18: the twin trains a teacher-sized net, the full path's slowest step
    monkeypatch.setattr(train, "TEACHER_RECIPE", replace(train.TEACHER_RECIPE, epochs=1))
    cifar = _cifar()
    study, limits = _tiny(profile)
    torch.manual_seed(0)
    teacher = models.make_net((8, 8, 8), whiten_with=cifar.train_images).eval()
    sp = bs.split(cifar, study)
    answers = bs.buy(teacher, sp.stream, study)
    lab = bs.Lab(sp.test_images, sp.test_labels, bs.teacher_answers(teacher, sp.test_images))
    copies = bs.copies(sp, answers, study, lab)
    assert {c.arm for c in copies} == {"own labels", "label@20", "label@40"} and len(copies) == 6
    assert all(0 <= c.acc <= 1 and 0 <= c.fid <= 1 for c in copies)
    assert set(bs.points(copies, study)) == {"0\n(own labels only)", "20\n($0.02)", "40\n($0.04)"}
    assert bs.primary(copies, study, 0.5)["primary"]["n_seeds"] == 2
    copies += bs.exposure_copies(sp, answers, study, lab)
    assert len(bs.exposure_pairs(copies, study)) == 3
    assert set(bs.measured(copies, study)) == {"label", "probs", "top_k"} and len(bs.records(copies)) == 10
    assert bs.retemper(copies, sp, answers, study, lab, T=4.0, seeds=(0, 1))["n"] == 2
    sets = bs.transfer_sets(sp, answers, teacher, study)
    assert [t.name for t in sets] == ["its training images", "images it never saw", "animals only", "synthetic"]
    assert len(bs.describe_sets(sets)) == 4
    transfer = bs.transfer_copies(sets, sp, study, lab, reused=copies)
    assert len(transfer) == 4 * 2 and bs.accuracy_on(transfer[0], lab, bs.VEHICLES) <= 1
    rows = bs.transfer_rows(transfer + copies, sets, lab, study)
    assert [r["set"] for r in rows][1:] == [t.name for t in sets] and "[" in rows[1]["gain"] and rows[0]["gain"] is None
    # notebook 04b
    cheap = bs.cheap_teachers(cifar, study, limits)
    twin = bs.course_twin(cifar, study, limits)
    assert (twin is not None) == (profile == "full")
    stream_answers = {name: bs.teacher_answers(t, sp.stream[:limits.budget]) for name, (t, _) in cheap.items()}
    stream_answers["course teacher"] = answers.get("label", limits.budget)
    quality = bs.quality_copies(sp, stream_answers, study, limits, lab)
    test_answers = {name: bs.teacher_answers(t, lab.images) for name, (t, _) in cheap.items()}
    test_answers["course teacher"] = lab.teacher
    twins = {name: bs.teacher_answers(w, lab.images) for name, (_, w) in cheap.items()}
    twins["course teacher"] = None if twin is None else bs.teacher_answers(twin, lab.images)
    rows = bs.quality_rows(quality, test_answers, lab, twins)
    assert [r["teacher"] for r in rows] == ["0.5 passes", "course teacher"]
    assert (rows[-1]["twin_agreement"] is not None) == (profile == "full")
    floor = bs.over_floor(rows)
    assert floor[-1]["summary"]["n"] == 2 and "[" in floor[0]["fidelity"]
    own = [c for c in quality if c.arm == "own labels"]
    assert all(c.logits.shape == (20, C) for c in own)
    born = bs.born_again(own, sp, study, lab)
    assert [c.seed for c in born] == [0, 1]
    assert bs.born_again_at(own, born, sp, study, lab, T=4.0)["n"] == 2
    shared = bs.labelled(sp, 0, study)[0]
    assert len(bs.ensemble_students([replace(c, logits=c.logits) for c in own], shared, (0, 1), study, lab)) == 2
    capacity = bs.capacity_copies(sp, answers, study, limits, lab)
    assert len(capacity) == len(limits.capacity_seeds)
    sizes = [r["copy"] for r in bs.capacity_rows(quality + capacity)]
    assert sizes == (["student-sized", "teacher-sized"] if profile == "full" else ["student-sized"])
    assert "teacher-sized" in bs.capacity_reading(quality + capacity)
    defences = bs.defence_copies(sp, answers, study, limits, lab)
    assert len({c.arm for c in defences}) == 3 and len(bs.defence_rows(defences + quality, limits)) == 2
    assert bs.original_cost(teacher, {"epochs": 1})[0]["true labels"] == 50_000
    hand = bs.labelled_students(sp, study, limits, lab)
    rows = bs.costs(quality + hand + copies, study, limits, 1000, 8000)
    assert [r["true labels"] for r in rows] == [20, 40, 20] and rows[2]["queries"] == 20


def test_notebook_04s_copy_by_hand_is_the_studys_copy():
    """The 'loop' cell of notebook 04, run on a tiny data set, trains bit for bit the copy blackbox_study.copy_arm
    trains: the page shows what the helper does."""
    import nbformat

    from course_utils import config, losses, train
    cells = nbformat.read(config.ROOT / "notebooks" / "04_blackbox_distillation.ipynb", as_version=4).cells
    (source,) = [c.source for c in cells if "loop" in c.metadata.get("tags", [])]
    cifar = _cifar()
    study, _ = _tiny("quick")
    torch.manual_seed(0)
    teacher = models.make_net((8, 8, 8), whiten_with=cifar.train_images).eval()
    sp = bs.split(cifar, study)
    answers = bs.buy(teacher, sp.stream, study)
    lab = bs.Lab(sp.test_images, sp.test_labels, bs.teacher_answers(teacher, sp.test_images))
    page = {"study": study, "sp": sp, "answers": answers, "lab": lab, "device": torch.device("cpu"),
            "blackbox_study": bs, "torch": torch, "data": data, "config": config, "models": models, "train": train,
            "losses": losses}
    exec(source, page)
    library = bs.copy_arm(sp, answers, "label", study.budgets[0], 0, study, lab)
    assert torch.equal(page["hand"].cpu(), library.pred) and page["steps"] == library.steps


def test_committed_runs_are_read_with_the_machine_they_were_measured_on():
    born = bs.born_again_runs()
    assert born and all(r["measured on"].startswith(("cpu", "NVIDIA")) and "interval" in r["difference"] for r in born)
    capacity = bs.capacity_illustration()
    assert [r["copy"] for r in capacity] == ["student-sized", "teacher-sized"] and "no own labels" in capacity[0]["measured on"]
