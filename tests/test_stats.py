"""Paired intervals over seeds: the t quantile, the summary, the verdict."""
import numpy as np
import pytest

from course_utils import stats


# Student-t quantiles t(0.5 + confidence / 2, df), from scipy.stats.t.ppf (scipy 1.17)
REFERENCE = {(1, 0.9): 6.3137515147, (1, 0.95): 12.7062047362, (1, 0.99): 63.6567411629, (2, 0.95): 4.3026527297,
             (4, 0.9): 2.1318467863, (4, 0.95): 2.7764451052, (4, 0.99): 4.6040948713, (9, 0.95): 2.2621571628,
             (30, 0.95): 2.0422724563, (30, 0.99): 2.7499956536}


@pytest.mark.parametrize("df, confidence", REFERENCE)
def test_t_quantile_matches_the_reference(df, confidence):
    assert stats.t_quantile(df, confidence) == pytest.approx(REFERENCE[df, confidence], rel=1e-9)


def test_paired_summary_interval():
    s = stats.paired_summary([1.0, 2.0, 3.0])
    assert s["mean"] == 2.0 and s["n"] == 3
    assert s["lo"] == pytest.approx(2 - 4.302653 * 1 / np.sqrt(3), rel=1e-5)  # t(0.975, 2 dof) = 4.3027
    one = stats.paired_summary([0.5])
    assert one["n"] == 1 and np.isnan(one["lo"])
    with pytest.raises(ValueError, match="at least 2 values"):
        stats.t_interval([1.0])



def test_excludes_zero():
    assert stats.excludes_zero(stats.paired_summary([1.0, 1.1, 0.9]))  # interval above zero
    assert stats.excludes_zero(stats.paired_summary([-1.0, -1.1, -0.9]))  # below zero
    assert not stats.excludes_zero(stats.paired_summary([-1.0, 2.0, 3.0]))  # straddles zero
    assert not stats.excludes_zero(stats.paired_summary([0.5]))  # one seed: no interval


def test_seeds_that_agree_exactly_do_not_make_a_finding():
    # two seeds both +3.8 points: a zero-width interval is a coincidence of few seeds, not a certainty
    s = stats.paired_summary([0.038, 0.038])
    assert stats.no_spread(s) and s["lo"] == s["hi"]
    assert not stats.excludes_zero(s)
    assert "too few seeds" in stats.verdict(s)
    assert not stats.no_spread(stats.paired_summary([0.03, 0.04]))


# -- inputs that must not get a silent answer -------------------------------------------------------------------------

@pytest.mark.parametrize("confidence", [0.0, 1.0, 95, -0.5, float("nan")])
def test_a_confidence_outside_0_1_is_refused(confidence):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        stats.paired_summary([1.0, 2.0, 3.0], confidence=confidence)


def test_the_printed_level_is_the_one_computed():
    s = stats.paired_summary([0.01, 0.02, 0.03], confidence=0.9)
    assert s["confidence"] == 0.9 and "90% interval" in stats.format_interval(s)
    assert "95% interval" in stats.format_interval(stats.paired_summary([0.01, 0.02, 0.03]))


@pytest.mark.parametrize("bad", [[1.0, float("nan"), 2.0], [float("inf"), 1.0], ["a", 1.0], [[1.0, 2.0]], []])
def test_nan_inf_and_non_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        stats.paired_summary(bad)


def test_numpy_scalars_are_accepted():
    assert stats.paired_summary(np.array([0.1, 0.2, 0.3], dtype=np.float32))["n"] == 3


def test_interval_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    x = [0.031, 0.052, 0.018, 0.044, 0.027]
    s = stats.paired_summary(x)
    lo, hi = scipy_stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=scipy_stats.sem(x))
    assert (s["lo"], s["hi"]) == pytest.approx((lo, hi), rel=1e-12)


def test_paired_differences_are_taken_seed_by_seed():
    assert stats.paired([0.5, 0.7], [0.4, 0.5])["diffs"] == pytest.approx([0.1, 0.2])
    with pytest.raises(ValueError, match="one value per seed"):
        stats.paired([0.5, 0.7], [0.4])


# -- readings generated from the numbers -------------------------------------------------------------------------------

def test_reading_picks_the_sentence_that_the_interval_supports():
    texts = dict(above="gain {mean} ({interval})", below="loss {lo}..{hi}", neither="no finding ({mean})")
    assert stats.reading(stats.paired_summary([0.10, 0.12, 0.11]), **texts).startswith("gain +11.00 (+11.00 points, 95% interval")
    assert stats.reading(stats.paired_summary([-0.10, -0.12, -0.11]), **texts).startswith("loss -")
    assert stats.reading(stats.paired_summary([-0.1, 0.2, 0.05]), **texts) == "no finding (+5.00)"
    assert "one seed" in stats.reading(stats.paired_summary([0.1]), **texts)
    assert "too few seeds" in stats.reading(stats.paired_summary([0.1, 0.1]), **texts)
    nats = stats.reading(stats.paired_summary([0.010, 0.012, 0.011]), above="{interval}", below="", neither="",
                         scale=1, unit="nats/word", digits=4)
    assert nats.startswith("+0.0110 nats/word, 95% interval [+0.0")
