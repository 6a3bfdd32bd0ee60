"""Notebook 05's probes and scores: kappa, adversarial examples, the watermark log, AUC, p-value, threshold;
the study's suspects and targets; the exercise checkers. Includes the cases that must not be flagged."""
import math

import pytest
import torch

from course_utils import checks, data, detect_study, fingerprint, models, server
from course_utils.plots import plot_probe_scores, plot_roc


def test_kappa_by_its_definition_and_its_two_ends():
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    teacher = torch.tensor([0, 1, 2, 3, 1, 2, 3, 0])  # right on the first four
    # the same right/wrong pattern with different wrong classes: perfect error consistency
    assert fingerprint.error_kappa(teacher, torch.tensor([0, 1, 2, 3, 2, 3, 0, 1]), labels) == pytest.approx(1.0)
    # the opposite pattern: as inconsistent as can be
    assert fingerprint.error_kappa(teacher, torch.tensor([1, 2, 3, 0, 0, 1, 2, 3]), labels) == pytest.approx(-1.0)
    # by hand: observed 6/8 agreement, both 50% right, chance 0.5: kappa = (0.75 - 0.5) / 0.5
    suspect = torch.tensor([0, 1, 2, 0, 1, 2, 3, 3])  # right on 0, 1, 2, 7
    assert fingerprint.error_kappa(teacher, suspect, labels) == pytest.approx(0.5)
    assert fingerprint.error_kappa(labels, labels, labels) == 0.0  # both always right: no pattern


def test_independent_mistakes_give_kappa_near_zero():
    """Must not be flagged: two models whose mistakes fall on independent images share them only by chance."""
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (20_000,), generator=g)
    a = torch.where(torch.rand(20_000, generator=g) < 0.8, labels, (labels + 1) % 10)
    b = torch.where(torch.rand(20_000, generator=g) < 0.7, labels, (labels + 2) % 10)
    assert abs(fingerprint.error_kappa(a, b, labels)) < 0.03


def test_kappa_refuses_logits():
    with pytest.raises(ValueError, match="argmax"):
        fingerprint.error_kappa(torch.randn(5, 10), torch.randn(5, 10), torch.zeros(5, dtype=torch.long))


def test_pgd_stays_within_eps_and_fools_the_model_it_attacks():
    torch.manual_seed(0)
    net = models.make_net((8, 16, 16)).eval()
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    adv = fingerprint.pgd(net, images, eps=8 / 255, steps=5, batch_size=6)
    assert adv.dtype == torch.uint8 and adv.shape == images.shape
    assert (adv.int() - images.int()).abs().max() <= 8
    with torch.no_grad():
        before = net(data.normalize(images)).argmax(1)
        after = net(data.normalize(adv)).argmax(1)
    assert (before != after).float().mean() > 0.5  # an untrained net is easy to push over


def test_transfer_share_and_its_errors():
    assert fingerprint.transfer(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 0, 3, 0])) == 0.5
    with pytest.raises(ValueError, match="non-zero"):
        fingerprint.transfer(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long))


def test_watermark_log_matches_what_the_api_answered():
    torch.manual_seed(1)
    net = models.make_net((8, 16, 16)).eval()
    images = torch.randint(0, 256, (400, 3, 32, 32), dtype=torch.uint8)
    api = server.TeacherAPI(net, exposure="label", perturb=0.2, secret=7)
    answered = api.query(images)
    honest = server.TeacherAPI(net, exposure="label").query(images)
    logits = server.TeacherAPI(net, exposure="logits").query(images)
    marked, wrong = fingerprint.watermark(logits, images, 0.2, secret=7)
    assert torch.equal(marked, torch.nonzero(answered != honest).flatten())
    assert torch.equal(wrong, answered[marked])
    assert 0.12 < len(marked) / 400 < 0.28
    other_key, _ = fingerprint.watermark(logits, images, 0.2, secret=8)
    assert not torch.equal(other_key, marked)  # the key decides which answers are marked


def test_an_innocent_model_does_not_repeat_the_watermark():
    """Must not be flagged: a model trained on the true labels gives a keyed wrong label only where it errs into
    that very class, about (1 - accuracy) / 9 of the time."""
    g = torch.Generator().manual_seed(2)
    truth = torch.randint(0, 10, (5_000,), generator=g)
    wrong = (truth + 1 + torch.randint(0, 9, (5_000,), generator=g)) % 10  # never the true class
    innocent = torch.where(torch.rand(5_000, generator=g) < 0.7, truth, torch.randint(0, 10, (5_000,), generator=g))
    assert fingerprint.transfer(innocent, wrong) < 0.05
    scores_ref = [fingerprint.transfer(innocent[i::4], wrong[i::4]) for i in range(4)]
    assert fingerprint.transfer(innocent, wrong) <= fingerprint.threshold(scores_ref) + 0.01


def test_auc_roc_and_permutation_p():
    assert fingerprint.auc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert fingerprint.auc([0.1], [0.9]) == 0.0
    assert fingerprint.auc([0.5, 0.5], [0.5]) == 0.5  # ties count one half
    # 4 copies and 4 independent, perfectly separated: only 1 of the C(8, 4) = 70 splits does as well
    assert fingerprint.permutation_p([5, 6, 7, 8], [1, 2, 3, 4]) == pytest.approx(1 / 70)
    assert fingerprint.permutation_p([1, 2], [3, 4]) == 1.0  # copies lowest: every split is at least as good
    fpr, tpr = fingerprint.roc([0.9, 0.4], [0.5, 0.1])
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert list(zip(fpr, tpr))[1:3] == [(0.0, 0.5), (0.5, 0.5)]
    with pytest.raises(ValueError, match="at least one copy"):
        fingerprint.auc([], [1.0])


def test_auc_interval_contains_the_auc_and_is_degenerate_at_perfect_separation():
    lo, hi = fingerprint.auc_interval([0.3, 0.6, 0.7, 0.9], [0.2, 0.4, 0.5, 0.65])
    assert lo <= fingerprint.auc([0.3, 0.6, 0.7, 0.9], [0.2, 0.4, 0.5, 0.65]) <= hi and lo < hi
    assert fingerprint.auc_interval([5, 6], [1, 2]) == (1.0, 1.0)  # why the notebook reads it with the p-value


def test_threshold_flags_nothing_the_lab_knows_is_innocent():
    refs = [0.05, 0.065]
    t = fingerprint.threshold(refs)
    assert not any(r > t for r in refs)
    with pytest.raises(ValueError, match="at least one reference"):
        fingerprint.threshold([])


def test_study_pools_are_disjoint_and_targets_follow_the_suspect():
    study = detect_study.get_study("quick")
    pool = detect_study.pools(50_000, study)
    sets = [set(v.tolist()) for v in pool.values()]
    assert all(len(s) == study.images for s in sets) and not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    kinds = [s.kind for s in study.suspects]
    assert kinds.count("copy") >= 4 and kinds.count("independent") >= 4 and kinds.count("reference") >= 1
    full = detect_study.get_study("full")
    assert [s.kind for s in full.suspects].count("copy") >= 5 and [s.kind for s in full.suspects].count("independent") >= 5
    assert detect_study.get_study("demo") is study
    logits = torch.randn(6, 10)
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    answers = detect_study.api_answers(logits, images, study)
    labels = torch.arange(6)
    by = {s.learns: s for s in study.suspects}
    assert torch.equal(detect_study.targets(by["truth"], labels, answers, logits, T=2.0), labels)
    assert torch.equal(detect_study.targets(by["api_label"], labels, answers, logits, T=2.0), answers["label"])
    soft = detect_study.targets(by["logits"], labels, answers, logits, T=2.0)
    assert torch.allclose(soft, torch.softmax(logits / 2, 1))
    stray = detect_study.Suspect("odd", "copy", "api_label", "other", 0)
    with pytest.raises(ValueError, match="pool='copier'"):
        detect_study.targets(stray, labels, answers, logits, T=2.0)
    with pytest.raises(ValueError, match="3 x"):
        detect_study.pools(2_000, study)


def test_checkers_of_05(capsys):
    def right(a, b, c, d):
        n = a + b + c + d
        p_t, p_s = (a + b) / n, (a + c) / n
        chance = p_t * p_s + (1 - p_t) * (1 - p_s)
        return ((a + d) / n - chance) / (1 - chance)

    assert checks.kappa_from_counts(right)
    assert not checks.kappa_from_counts(lambda a, b, c, d: (a + d) / (a + b + c + d))
    assert "observed agreement" in capsys.readouterr().out
    assert not checks.kappa_from_counts(None) and not checks.kappa_from_counts(lambda a, b, c, d: None)
    # the checker's tables agree with fingerprint.error_kappa on the predictions they stand for
    labels = torch.zeros(100, dtype=torch.long)
    t = torch.tensor([0] * 70 + [1] * 30)  # right on 70
    s = torch.tensor([0] * 60 + [1] * 10 + [0] * 5 + [1] * 25)  # both right 60, teacher only 10, suspect only 5
    assert fingerprint.error_kappa(t, s, labels) == pytest.approx(right(60, 10, 5, 25))
    assert checks.strongest_evidence("b") and not checks.strongest_evidence("a")
    assert "good models agree anyway" in capsys.readouterr().out
    assert not checks.strongest_evidence(None)
    curve = {10: 0.8, 25: 1.0, 50: 1.0}
    assert checks.probe_budget(25, curve, 0.99)
    assert not checks.probe_budget(50, curve, 0.99) and not checks.probe_budget(10, curve, 0.99)
    assert not checks.probe_budget(-1, curve, 0.99)
    assert checks.probe_budget(None, {10: 0.5}, 0.99)


def test_figures_of_05():
    scores = {"a": {"c": 0.2, "i": 0.1, "r": 0.05}, "b": {"c": 0.3, "i": 0.2, "r": 0.1}}
    kinds = {"c": "copy", "i": "independent", "r": "reference"}
    fig = plot_probe_scores(scores, kinds, {"a": 0.05, "b": 0.1}, {"a": "A", "b": "B"}, hollow=["c"])
    assert len(fig.axes) == 2
    fig = plot_roc({"a": ([0, 0, 1], [0, 1, 1], 1.0)})
    assert math.isclose(fig.axes[0].get_xlim()[1], 1.02)
