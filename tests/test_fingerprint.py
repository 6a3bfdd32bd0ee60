"""Notebook 05's probes and statistics: kappa and its ceiling, adversarial examples, the watermark log, the
per-suspect test, AUC, ROC, the permutation p-value and its floor, the threshold rule; checked against
scikit-learn, scipy and brute-force counts. Includes the cases that must not be flagged."""
import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats as scipy_stats
from sklearn.metrics import roc_auc_score

from course_utils import data, fingerprint, models, server


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


def test_kappa_refuses_logits_and_empty_input():
    with pytest.raises(ValueError, match="argmax"):
        fingerprint.error_kappa(torch.randn(5, 10), torch.randn(5, 10), torch.zeros(5, dtype=torch.long))
    empty = torch.tensor([], dtype=torch.long)
    with pytest.raises(ValueError, match="non-zero"):
        fingerprint.error_kappa(empty, empty, empty)


def test_kappa_ceiling_is_reached_by_the_most_consistent_pattern():
    """A weaker model wrong on every image the teacher gets wrong, and on no other than it must, reaches the ceiling."""
    n, t_right, s_right = 1000, 891, 456
    labels = torch.zeros(n, dtype=torch.long)
    teacher = torch.tensor([0] * t_right + [1] * (n - t_right))
    suspect = torch.tensor([0] * s_right + [1] * (n - s_right))  # right only where the teacher is right
    ceiling = fingerprint.kappa_ceiling(t_right / n, s_right / n)
    assert fingerprint.error_kappa(teacher, suspect, labels) == pytest.approx(ceiling)
    assert ceiling == pytest.approx(0.186, abs=1e-3)  # the expert's "about 0.19 at 0.891 and 0.456"
    assert fingerprint.kappa_ceiling(0.7, 0.7) == pytest.approx(1.0)  # equal accuracies: no ceiling below 1
    g = torch.Generator().manual_seed(3)
    for _ in range(20):  # no pattern beats it
        s = torch.where(torch.rand(n, generator=g) < 0.5, labels, labels + 1)
        acc = (s == labels).float().mean().item()
        assert fingerprint.error_kappa(teacher, s, labels) <= fingerprint.kappa_ceiling(t_right / n, acc) + 1e-9
    with pytest.raises(ValueError, match="finite"):
        fingerprint.kappa_ceiling(float("nan"), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        fingerprint.kappa_ceiling(89.1, 45.6)


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


def test_matches_transfer_and_their_errors():
    assert fingerprint.transfer(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 0, 3, 0])) == 0.5
    assert fingerprint.matches(torch.tensor([1, 2]), torch.tensor([1, 0])).tolist() == [True, False]
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
    that very class, about (1 - accuracy) / 9 of the time; the per-suspect test then finds nothing."""
    g = torch.Generator().manual_seed(2)
    truth = torch.randint(0, 10, (5_000,), generator=g)
    wrong = (truth + 1 + torch.randint(0, 9, (5_000,), generator=g)) % 10  # never the true class
    innocent = torch.where(torch.rand(5_000, generator=g) < 0.7, truth, torch.randint(0, 10, (5_000,), generator=g))
    assert fingerprint.transfer(innocent, wrong) < 0.05
    refs = [fingerprint.matches(innocent[i::5], wrong[i::5]) for i in range(4)]  # 4 references, 1,000 marks each
    suspect = fingerprint.matches(innocent[4::5], wrong[4::5])
    p = fingerprint.match_p(int(suspect.sum()), len(suspect), sum(int(r.sum()) for r in refs), 4 * len(refs[0]))
    assert p > 0.05


# -- the per-suspect test ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("hits, trials, ref_hits, ref_trials",
                         [(27, 139, 16, 278), (4, 139, 16, 278), (0, 10, 3, 40), (10, 10, 0, 40), (20, 139, 45, 834)])
def test_match_p_is_the_beta_binomial_tail_of_scipy(hits, trials, ref_hits, ref_trials):
    want = scipy_stats.betabinom(trials, 1 + ref_hits, 1 + ref_trials - ref_hits).sf(hits - 1)
    assert fingerprint.match_p(hits, trials, ref_hits, ref_trials) == pytest.approx(want, rel=1e-6, abs=1e-12)


def test_match_p_matches_the_expert_recomputation_and_a_simulation():
    # the review's per-suspect table: 27 of 139 against the references' 16 of 278 gives 2.7e-5
    assert fingerprint.match_p(27, 139, 16, 278) == pytest.approx(2.7e-5, rel=0.02)
    # by its definition: draw the innocent rate from the references' posterior, then a binomial count
    rng = np.random.default_rng(0)
    rates = rng.beta(1 + 16, 1 + 278 - 16, size=400_000)
    counts = rng.binomial(139, rates)
    assert fingerprint.match_p(14, 139, 16, 278) == pytest.approx((counts >= 14).mean(), abs=3e-3)
    assert fingerprint.match_p(0, 139, 16, 278) == 1.0


def test_match_p_refuses_what_is_not_a_count():
    for bad in [(5, 4, 1, 10), (1, 10, 11, 10), (-1, 10, 1, 10), (1.5, 10, 1, 10), (1, 0, 0, 0), (float("nan"), 10, 1, 10)]:
        with pytest.raises(ValueError):
            fingerprint.match_p(*bad)
    assert fingerprint.match_p(np.int64(3), np.int64(10), 1, 10) == fingerprint.match_p(3, 10, 1, 10)


# -- the panel: AUC, permutation p, its floor --------------------------------------------------------------------

def _brute_force_p(copies, independents):
    """Every split of the pooled scores into len(copies) "copies" and the rest, AUC by its definition."""
    scores, n = list(copies) + list(independents), len(copies)
    observed = fingerprint.auc(copies, independents)
    splits = list(itertools.combinations(range(len(scores)), n))
    hits = sum(fingerprint.auc([scores[i] for i in pick], [scores[i] for i in range(len(scores)) if i not in pick])
               >= observed - 1e-12 for pick in splits)
    return hits / len(splits)


def test_auc_equals_scikit_learn_with_and_without_ties():
    rng = np.random.default_rng(0)
    for n_c, n_i, levels in [(5, 4, 0), (10, 8, 0), (4, 4, 5), (12, 9, 4), (1, 7, 0)]:
        c, i = rng.random(n_c), rng.random(n_i)
        if levels:  # round to a few values: many ties, as shares of a few marks have
            c, i = np.round(c * levels) / levels, np.round(i * levels) / levels
        want = roc_auc_score([1] * n_c + [0] * n_i, np.concatenate([c, i]))
        assert fingerprint.auc(c, i) == pytest.approx(want)


def test_permutation_p_equals_a_brute_force_count_and_scipy():
    rng = np.random.default_rng(1)
    for n_c, n_i, levels in [(5, 4, 0), (4, 4, 3), (6, 5, 4), (3, 7, 0)]:
        c, i = rng.random(n_c) + 0.2, rng.random(n_i)
        if levels:
            c, i = np.round(c * levels) / levels, np.round(i * levels) / levels
        result = fingerprint.permutation_p(c, i)
        assert result.exact and result.p == pytest.approx(_brute_force_p(c, i))
        # scipy's permutation test with the AUC as its statistic, exact over all splits
        exact = scipy_stats.permutation_test((c, i), lambda x, y: fingerprint.auc(x, y), permutation_type="independent",
                                             alternative="greater", n_resamples=math.inf)
        assert result.p == pytest.approx(exact.pvalue)
        if not levels:  # without ties, the Mann-Whitney test's exact p-value is the same
            assert result.p == pytest.approx(scipy_stats.mannwhitneyu(c, i, alternative="greater", method="exact").pvalue)


@pytest.mark.parametrize("n_copies, n_independent", [(4, 4), (5, 4), (10, 8), (7, 6), (3, 11)])
def test_p_floor_is_one_over_the_number_of_splits(n_copies, n_independent):
    assert fingerprint.p_floor(n_copies, n_independent) == 1 / math.comb(n_copies + n_independent, n_copies)
    separated = fingerprint.permutation_p(range(n_independent, n_independent + n_copies), range(n_independent))
    assert separated.exact and separated.p == pytest.approx(fingerprint.p_floor(n_copies, n_independent))
    assert separated.floor == pytest.approx(separated.p)


def test_the_notebooks_old_floor_bug_is_gone():
    """5 copies and 4 independent models: 1/C(9, 5) = 1/126, not the 1/C(11, 7) = 1/330 once printed."""
    assert fingerprint.p_floor(5, 4) == pytest.approx(1 / 126)
    assert fingerprint.p_floor(4, 4) == pytest.approx(1 / 70)


def test_permutation_p_samples_above_its_limit_and_says_so():
    """14 + 14 suspects (40 million splits) answer in a second, by Monte Carlo, and the answer says so."""
    result = fingerprint.permutation_p(range(14, 28), range(14), draws=20_000)
    assert not result.exact and result.splits == 20_000
    assert result.p == pytest.approx(1 / 20_001)  # no random split does as well as perfect separation
    assert "Monte Carlo" in str(result) and "exact" in str(fingerprint.permutation_p([2, 3], [1]))
    # below the limit, forced to sample: close to the exact count
    rng = np.random.default_rng(2)
    c, i = rng.random(6) + 0.15, rng.random(6)
    exact = fingerprint.permutation_p(c, i)
    sampled = fingerprint.permutation_p(c, i, exact_limit=0, draws=50_000)
    assert not sampled.exact and abs(sampled.p - exact.p) < 0.01


def test_panel_statistics_refuse_nan_and_empty_input():
    for fn in (fingerprint.auc, fingerprint.permutation_p, fingerprint.roc):
        with pytest.raises(ValueError, match="finite"):
            fn([float("nan")], [0.1])
        with pytest.raises(ValueError, match="at least one copy"):
            fn([], [0.1])


def test_roc_points():
    fpr, tpr = fingerprint.roc([0.9, 0.4], [0.5, 0.1])
    assert (fpr[0], tpr[0]) == (0.0, 0.0) and (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert list(zip(fpr, tpr))[1:3] == [(0.0, 0.5), (0.5, 0.5)]


# -- the threshold rule -----------------------------------------------------------------------------------------

def test_threshold_flags_nothing_the_lab_knows_is_innocent_and_refuses_nan():
    refs = [0.05, 0.065]
    t = fingerprint.threshold(refs)
    assert not any(r > t for r in refs)
    with pytest.raises(ValueError, match="at least one reference"):
        fingerprint.threshold([])
    with pytest.raises(ValueError, match="finite"):
        fingerprint.threshold([float("nan"), 0.2])


def test_threshold_fpr_is_one_over_k_plus_one_and_matches_a_simulation():
    assert fingerprint.threshold_fpr(2) == pytest.approx(1 / 3)
    assert fingerprint.threshold_fpr(6) == pytest.approx(1 / 7)
    g = torch.Generator().manual_seed(0)
    scores = torch.rand(200_000, 5, generator=g)  # 4 references and one innocent model, exchangeable
    flagged = (scores[:, 4] > scores[:, :4].max(1).values).float().mean().item()
    assert flagged == pytest.approx(fingerprint.threshold_fpr(4), abs=0.005)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="whole number"):
            fingerprint.threshold_fpr(bad)


@pytest.mark.parametrize("share", [2.0, -0.1, float("nan"), "0.1", True])
def test_watermark_refuses_a_share_that_is_not_one(share):
    logits = torch.randn(4, 10)
    images = torch.zeros(4, 3, 32, 32, dtype=torch.uint8)
    with pytest.raises(ValueError, match="between 0 and 1"):
        fingerprint.watermark(logits, images, share, secret=0)
