"""Interval estimates and correlations behind the report metrics (置信区间, 相关系数).

Pure numpy/scipy over plain numbers; an undefined figure (nothing to divide by, too few points
for an interval or a correlation) is ``None``, never a misleading 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from qa_platform.domain.errors import Invalid


class MetricsError(Invalid):
    """Bad metric input; the message names the problem."""


@dataclass(frozen=True)
class Interval:
    """A point estimate with its two-sided confidence interval (None where undefined)."""

    estimate: float | None
    low: float | None
    high: float | None


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator


def mean_ci(values: Sequence[float], population: int | None, confidence: float = 0.95) -> Interval:
    """Mean with a t-interval and finite-population correction (有限总体校正).

    x̄ ± t(1−α/2, n−1) · s/√n · √((N−n)/(N−1)); s is the sample standard deviation (n−1).
    ``population`` N is the frame the sample was drawn from (calls analysed); None → no FPC.
    """
    _check_confidence(confidence)
    n = len(values)
    if n == 0:
        return Interval(None, None, None)
    mean = float(np.mean(values))
    if n < 2:
        return Interval(mean, None, None)
    t_crit = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    half = t_crit * float(np.std(values, ddof=1)) / math.sqrt(n)
    return Interval(mean, mean - half * fpc(n, population), mean + half * fpc(n, population))


def fpc(n: int, population: int | None) -> float:
    """Finite-population correction √((N−n)/(N−1)); 1 without N; N below n is taken as N = n."""
    if population is None:
        return 1.0
    big_n = max(population, n)
    return 0.0 if big_n <= 1 else math.sqrt((big_n - n) / (big_n - 1))


def wilson(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Proportion with the Wilson score interval.

    centre = (p̂ + z²/2n) / (1 + z²/n), half = z/(1 + z²/n) · √(p̂(1−p̂)/n + z²/4n²).
    """
    _check_confidence(confidence)
    if n == 0:
        return Interval(None, None, None)
    if not 0 <= successes <= n:
        raise MetricsError(f"successes {successes} must lie within 0..{n}")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise MetricsError(f"confidence {confidence} must lie strictly between 0 and 1")


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson's r; None with fewer than 3 pairs or when either side is constant."""
    if len(x) != len(y):
        raise MetricsError(f"correlation needs pairs: got {len(x)} and {len(y)} values")
    if len(x) < 3:
        return None
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's ρ: Pearson's r of the average ranks (ties share their mean rank)."""
    if len(x) != len(y):
        raise MetricsError(f"correlation needs pairs: got {len(x)} and {len(y)} values")
    return pearson(list(stats.rankdata(x)), list(stats.rankdata(y)))
