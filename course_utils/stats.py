"""Honest comparisons: a paired difference over seeds with a Student-t interval (scipy.stats underneath).

A paired difference is, for each seed, one arm's score minus the other's (both trained from the same initial
weights on the same batches). Its t interval is a method that covers the true mean difference in `confidence`
of the experiments it is used on; an interval that lies wholly above zero is a gain these seeds tell from the
noise of training.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as _scipy


def _check_confidence(confidence) -> float:
    c = float(confidence)
    if not 0.0 < c < 1.0 or math.isnan(c):
        raise ValueError(f"confidence is a share strictly between 0 and 1 (0.95 for a 95% interval), got {confidence!r}. "
                         "Did you mean 1 - confidence?")
    return c


def _finite(values, what: str) -> np.ndarray:
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be numbers (one per seed), got {values!r}.") from err
    if x.ndim != 1:
        raise ValueError(f"{what} must be a flat list of numbers (one per seed), got shape {x.shape}.")
    bad = [i for i, v in enumerate(x) if not math.isfinite(v)]
    if bad:
        raise ValueError(f"{what} must be finite, but position(s) {bad} hold {[values[i] for i in bad]}: a NaN or inf "
                         "usually means a run diverged or a division by zero upstream. Fix that run first.")
    return x


def t_quantile(df: int, confidence: float = 0.95) -> float:
    """The Student-t quantile of a two-sided `confidence` interval with `df` degrees of freedom (2.78 for df = 4)."""
    if int(df) != df or df < 1:
        raise ValueError(f"degrees of freedom must be a whole number >= 1 (seeds - 1), got {df!r}.")
    return float(_scipy.t.ppf(0.5 + _check_confidence(confidence) / 2, int(df)))


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of `values` with a Student-t interval; needs >= 2 finite values."""
    x = _finite(values, "values")
    if len(x) < 2:
        raise ValueError(f"a confidence interval needs at least 2 values (e.g. 2 seeds), got {len(x)}.")
    mean = float(x.mean())
    half = t_quantile(len(x) - 1, confidence) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return mean, mean - half, mean + half


def paired_summary(diffs, confidence: float = 0.95) -> dict:
    """Mean paired difference (e.g. distilled minus hard-label accuracy, seed by seed) and its interval:
    {mean, lo, hi, sd, n, diffs, confidence}.

    With one value the interval is undefined (NaN): one seed cannot say whether a gain is real.
    """
    confidence = _check_confidence(confidence)
    x = [float(v) for v in _finite(diffs, "paired differences")]
    if not x:
        raise ValueError("paired differences: got none. Pass one difference per seed.")
    if len(x) == 1:
        return {"mean": x[0], "lo": math.nan, "hi": math.nan, "sd": math.nan, "n": 1, "diffs": x,
                "confidence": confidence}
    mean, lo, hi = t_interval(x, confidence)
    return {"mean": mean, "lo": lo, "hi": hi, "sd": float(np.std(x, ddof=1)), "n": len(x), "diffs": x,
            "confidence": confidence}


def paired(a, b, confidence: float = 0.95) -> dict:
    """paired_summary of a - b, seed by seed (a and b: one score per seed, in the same seed order)."""
    a, b = list(a), list(b)
    if len(a) != len(b):
        raise ValueError(f"paired scores need one value per seed on both sides, got {len(a)} and {len(b)}.")
    return paired_summary([x - y for x, y in zip(a, b)], confidence)


def no_spread(summary: dict) -> bool:
    """True when every seed gave the same difference (say two seeds both +3.8 points, as accuracies on 1,000
    images move in steps of 0.1): the interval has zero width, a coincidence of few seeds, not a certainty."""
    return summary["n"] >= 2 and summary["sd"] == 0.0


def excludes_zero(summary: dict) -> bool:
    """True when a paired_summary's interval lies wholly above or below zero: a difference these seeds
    can tell from noise. False when it straddles zero, for a single seed (no interval), and when the seeds
    did not spread at all (no_spread: the noise is not estimated)."""
    lo, hi = summary["lo"], summary["hi"]
    return not (math.isnan(lo) or math.isnan(hi) or no_spread(summary)) and (lo > 0 or hi < 0)


def format_interval(summary: dict, unit: str = "points", scale: float = 100.0, digits: int = 2) -> str:
    """'+3.62 points, 95% interval [+2.58, +4.66]' for a paired_summary of shares (scale 100: points; `digits`
    after the point); the confidence printed is the one the summary was computed with. A single seed has no
    interval and says so."""
    mean = f"{scale * summary['mean']:+.{digits}f} {unit}".rstrip()
    if summary["n"] < 2:
        return f"{mean} (one seed: no interval)"
    level = 100 * summary.get("confidence", 0.95)
    return (f"{mean}, {level:g}% interval [{scale * summary['lo']:+.{digits}f}, "
            f"{scale * summary['hi']:+.{digits}f}]")


def verdict(summary: dict) -> str:
    """One plain phrase for a paired_summary: above zero, below zero, or not told from noise."""
    if summary["n"] < 2:
        return "one seed cannot tell"
    return reading(summary,
                   above="interval above zero: a gain beyond the noise of training",
                   below="interval below zero: a loss beyond the noise of training",
                   neither="interval includes zero: not told from the noise of training")


def reading(summary: dict, above: str, below: str, neither: str, *, scale: float = 100.0, unit: str = "points",
            digits: int = 2) -> str:
    """The sentence that matches the summary's interval, with its numbers filled in.

    `above` when the interval lies wholly above zero, `below` when wholly below, `neither` when it includes
    zero. One seed, or seeds that did not spread, get a sentence that says so instead. Each sentence may use
    {mean}, {lo}, {hi} (scaled and signed, e.g. +3.62) and {interval} (format_interval's text), so that a reading
    printed beside a number is generated from that number.
    """
    if summary["n"] < 2:
        return "one seed cannot tell: " + format_interval(summary, unit, scale, digits)
    if no_spread(summary):
        return "every seed gave the same difference: too few seeds to estimate the noise"
    fields = {"mean": f"{scale * summary['mean']:+.{digits}f}", "lo": f"{scale * summary['lo']:+.{digits}f}",
              "hi": f"{scale * summary['hi']:+.{digits}f}", "interval": format_interval(summary, unit, scale, digits)}
    text = above if summary["lo"] > 0 else below if summary["hi"] < 0 else neither
    return text.format(**fields)
