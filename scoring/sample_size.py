"""Sample-size calculator (样本量计算) for a proportion or a mean.

Cochran's formula gives the size for an infinite population; the finite-population
correction (FPC) shrinks it for a frame of ``population`` calls:

    n0 = z² · p(1−p) / e²          (proportion, e.g. pass rate)
    n0 = (z · σ / e)²              (mean, e.g. mean score)
    n  = n0 / (1 + (n0 − 1) / N)   (FPC)

Results are rounded up and never exceed the population. ``z`` comes from the standard normal
distribution (``statistics.NormalDist``), two-sided.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from qa_platform.domain.errors import Invalid


class SampleSizeError(Invalid):
    """An input to the sample-size calculator is out of range; the message names it."""


def z_value(confidence: float) -> float:
    """Two-sided standard-normal quantile for a confidence level in (0, 1), e.g. 0.95 → 1.96."""
    if not isinstance(confidence, int | float) or not 0.0 < confidence < 1.0:
        raise SampleSizeError(f"confidence={confidence!r} must be between 0 and 1 (e.g. 0.95)")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _check_margin(margin: float, upper: float | None = None) -> None:
    if not isinstance(margin, int | float) or not margin > 0:
        raise SampleSizeError(f"margin={margin!r} must be a positive number")
    if upper is not None and margin >= upper:
        raise SampleSizeError(f"margin={margin!r} must be below {upper} for a proportion")


def _check_population(population: int | None) -> None:
    if population is None:
        return
    if isinstance(population, bool) or not isinstance(population, int) or population < 0:
        raise SampleSizeError(f"population={population!r} must be a non-negative integer")


def finite_population_correction(n0: float, population: int | None) -> int:
    """Apply the FPC to an infinite-population size ``n0``; round up; cap at ``population``."""
    _check_population(population)
    if population is None:
        return math.ceil(n0 - 1e-9)
    if population == 0:
        return 0
    n = n0 / (1.0 + (n0 - 1.0) / population)
    return min(population, math.ceil(n - 1e-9))


def sample_size_proportion(
    margin: float,
    confidence: float = 0.95,
    proportion: float = 0.5,
    population: int | None = None,
) -> int:
    """Calls needed to estimate a proportion within ±``margin`` (absolute, e.g. 0.05).

    ``proportion`` is the expected value; 0.5 is the conservative default.
    """
    _check_margin(margin, upper=1.0)
    if not isinstance(proportion, int | float) or not 0.0 <= proportion <= 1.0:
        raise SampleSizeError(f"proportion={proportion!r} must be between 0 and 1")
    z = z_value(confidence)
    n0 = z * z * proportion * (1.0 - proportion) / (margin * margin)
    return finite_population_correction(max(n0, 1.0), population)


def sample_size_mean(
    margin: float,
    stddev: float,
    confidence: float = 0.95,
    population: int | None = None,
) -> int:
    """Calls needed to estimate a mean (e.g. mean score) within ±``margin`` score points."""
    _check_margin(margin)
    if not isinstance(stddev, int | float) or stddev < 0 or math.isnan(stddev):
        raise SampleSizeError(f"stddev={stddev!r} must be a non-negative number")
    z = z_value(confidence)
    n0 = (z * stddev / margin) ** 2
    return finite_population_correction(max(n0, 1.0), population)


def margin_of_error_proportion(
    n: int, confidence: float = 0.95, proportion: float = 0.5, population: int | None = None
) -> float:
    """The ± margin a sample of ``n`` calls gives for a proportion (inverse of the above)."""
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise SampleSizeError(f"n={n!r} must be a positive integer")
    _check_population(population)
    if population is not None and n > population:
        raise SampleSizeError(f"n={n} exceeds population={population}")
    z = z_value(confidence)
    fpc = 1.0 if population is None or population <= 1 else (population - n) / (population - 1)
    return z * math.sqrt(proportion * (1.0 - proportion) / n * fpc)
