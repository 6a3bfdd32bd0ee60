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
