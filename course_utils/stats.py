"""Honest comparisons: a paired difference over seeds with a Student-t 95% interval."""
from __future__ import annotations

import math

import numpy as np


def t_quantile(df: int, confidence: float = 0.95) -> float:
    """The Student-t quantile of a two-sided `confidence` interval with `df` degrees of freedom (2.78 for df = 4):
    the x where the t density, integrated from 0 (Simpson's rule), reaches confidence / 2; found by bisection."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def mass(x: float, n: int = 2000) -> float:  # integral of the density from 0 to x
        t = np.linspace(0.0, x, n + 1)
        f = c * (1 + t ** 2 / df) ** (-(df + 1) / 2)
        return x / (3 * n) * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())

    lo, hi = 0.0, 1.0
    while mass(hi) < confidence / 2:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mass(mid) < confidence / 2 else (lo, mid)
    return (lo + hi) / 2


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the mean of `values` with a Student-t interval; needs >= 2 values."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"a confidence interval needs at least 2 values (e.g. 2 seeds), got {len(x)}.")
    mean = float(x.mean())
    half = t_quantile(len(x) - 1, confidence) * float(x.std(ddof=1)) / math.sqrt(len(x))
    return mean, mean - half, mean + half


def paired_summary(diffs, confidence: float = 0.95) -> dict:
    """Mean paired difference (e.g. distilled minus hard-label accuracy, seed by seed) and its interval.

    With one value the interval is undefined (NaN): one seed cannot say whether a gain is real.
    """
    x = [float(v) for v in diffs]
    if len(x) == 1:
        return {"mean": x[0], "lo": math.nan, "hi": math.nan, "sd": math.nan, "n": 1, "diffs": x}
    mean, lo, hi = t_interval(x, confidence)
    return {"mean": mean, "lo": lo, "hi": hi, "sd": float(np.std(x, ddof=1)), "n": len(x), "diffs": x}


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
    after the point); a single seed has no interval and says so."""
    mean = f"{scale * summary['mean']:+.{digits}f} {unit}"
    if summary["n"] < 2:
        return f"{mean} (one seed: no interval)"
    return f"{mean}, 95% interval [{scale * summary['lo']:+.{digits}f}, {scale * summary['hi']:+.{digits}f}]"


def verdict(summary: dict) -> str:
    """One plain phrase for a paired_summary: above zero, below zero, or not told from noise."""
    if summary["n"] < 2:
        return "one seed cannot tell"
    if no_spread(summary):
        return "every seed gave the same difference: too few seeds to estimate the noise"
    if not excludes_zero(summary):
        return "interval includes zero: not told from the noise of training"
    return ("interval above zero: a gain beyond the noise of training" if summary["mean"] > 0
            else "interval below zero: a loss beyond the noise of training")
