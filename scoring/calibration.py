"""Calibration (校准): several inspectors score the same calls; how well do they agree?

Statistics (plain Python/numpy, checked against textbook values in the tests):

* Cohen's kappa (two raters, nominal; optional linear/quadratic weights for ordinal scores);
* Fleiss' kappa (any fixed number of raters per subject, nominal);
* ICC(2,1): two-way random effects, absolute agreement, single rater (Shrout & Fleiss 1979);
* each inspector's deviation from the session's reference score (the supervisor's reference
  when given, otherwise the inspectors' mean for that call and item).

An undefined statistic (e.g. kappa when every rating falls in one category, ICC with fewer
than two calls) is reported as ``None`` rather than a misleading number.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa_platform.domain.errors import Invalid


class CalibrationError(Invalid):
    """Bad calibration input; the message names the problem."""


def cohen_kappa(
    rater_a: Sequence[Hashable], rater_b: Sequence[Hashable], weights: str | None = None
) -> float | None:
    """Cohen's kappa between two raters over the same subjects.

    ``weights`` None (nominal), "linear" or "quadratic" (categories must then be numbers).
    """
    if len(rater_a) != len(rater_b):
        raise CalibrationError(
            f"raters scored {len(rater_a)} and {len(rater_b)} subjects; need the same"
        )
    if not rater_a:
        raise CalibrationError("no subjects to compare")
    cats = sorted(set(rater_a) | set(rater_b), key=_sort_key)
    index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)))
    for a, b in zip(rater_a, rater_b, strict=True):
        table[index[a], index[b]] += 1
    table /= table.sum()
    disagreement = _disagreement_weights(cats, weights)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    expected_d = float((disagreement * expected).sum())
    if expected_d == 0:
        return None
    return 1.0 - float((disagreement * table).sum()) / expected_d


def _sort_key(value: Hashable) -> tuple[int, object]:
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _disagreement_weights(cats: list, weights: str | None) -> np.ndarray:
    k = len(cats)
    if weights is None:
        return 1.0 - np.eye(k)
    if weights not in ("linear", "quadratic"):
        raise CalibrationError(f"weights={weights!r} must be None, 'linear' or 'quadratic'")
    try:
        values = np.array([float(c) for c in cats])
    except (TypeError, ValueError):
        raise CalibrationError("weighted kappa needs numeric categories") from None
    diff = np.abs(values[:, None] - values[None, :])
    span = values.max() - values.min() if k > 1 else 1.0
    diff = diff / (span or 1.0)
    return diff if weights == "linear" else diff**2


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa from a subjects × categories table of rating counts.

    Every row must sum to the same number of raters n ≥ 2.
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        raise CalibrationError("counts must be a non-empty subjects × categories table")
    raters = table.sum(axis=1)
    if np.any(raters != raters[0]) or raters[0] < 2:
        raise CalibrationError("every subject needs the same number of ratings (at least 2)")
    n = raters[0]
    p_j = table.sum(axis=0) / table.sum()
    p_i = ((table * table).sum(axis=1) - n) / (n * (n - 1))
    p_bar, p_e = float(p_i.mean()), float((p_j * p_j).sum())
    if p_e == 1.0:
        return None
    return (p_bar - p_e) / (1.0 - p_e)


def fleiss_kappa_from_ratings(ratings: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa from per-subject rating lists (each list: one rating per rater)."""
    cats = sorted({r for row in ratings for r in row}, key=_sort_key)
    index = {c: i for i, c in enumerate(cats)}
    counts = [[0] * len(cats) for _ in ratings]
    for row, subject in zip(counts, ratings, strict=True):
        for rating in subject:
            row[index[rating]] += 1
    return fleiss_kappa(counts)


def icc_2_1(matrix: Sequence[Sequence[float]]) -> float | None:
    """ICC(2,1): two-way random, absolute agreement, single rater (subjects × raters)."""
    x = np.asarray(matrix, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise CalibrationError("ICC needs at least 2 subjects × 2 raters with no gaps")
    if np.isnan(x).any():
        raise CalibrationError("ICC needs a complete matrix (no missing scores)")
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    msr, msc = ss_rows / (n - 1), ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    denom = msr + (k - 1) * mse + k * (msc - mse) / n
    if denom == 0:
        return None
    return float((msr - mse) / denom)


# --------------------------------------------------------------------------------------
# Sessions


@dataclass(frozen=True)
class CalibrationScore:
    """One inspector's score for one item of one call in a session (None = N/A)."""

    inspector_id: int
    call_id: int
    item_code: str
    value: float | None


@dataclass(frozen=True)
class ItemAgreement:
    """Agreement on one scorecard item across the session's calls."""

    item_code: str
    calls: int
    raters: int
    fleiss_kappa: float | None
    icc_2_1: float | None
    mean_pairwise_cohen: float | None


@dataclass(frozen=True)
class InspectorDeviation:
    """How one inspector departs from the reference (偏差)."""

    inspector_id: int
    scored: int
    mean_deviation: float  # signed: > 0 scores more generously than the reference
    mean_abs_deviation: float
    agreement_rate: float  # share of scores equal to the reference
    total_deviation: float  # mean over calls of (Σ own − Σ reference)
    kappa_vs_reference: float | None


@dataclass(frozen=True)
class OverallAgreement:
    """Agreement over the whole session: Fleiss' kappa with every (call, item) cell as a
    subject, ICC(2,1) with each call's total (Σ items) as the subject; raters are the
    inspectors who scored every cell."""

    cells: int
    calls: int
    raters: int
    fleiss_kappa: float | None
    icc_2_1_total: float | None


@dataclass(frozen=True)
class CalibrationReport:
    """Per-item agreement and per-inspector deviation of a calibration session."""

    items: tuple[ItemAgreement, ...]
    inspectors: tuple[InspectorDeviation, ...]
    reference_source: str  # "supervisor" | "consensus_mean"
    overall: OverallAgreement | None = None


Key = tuple[int, str]  # (call_id, item_code)


def analyse_session(
    scores: Sequence[CalibrationScore], reference: Mapping[Key, float] | None = None
) -> CalibrationReport:
    """Agreement per item and deviation per inspector; ``reference`` maps (call, item) → score."""
    grid = _grid(scores)
    if not grid:
        raise CalibrationError("the session has no scores")
    source = "supervisor" if reference else "consensus_mean"
    ref = dict(reference) if reference else _consensus(grid)
    items = tuple(_item_agreement(code, grid) for code in sorted({k[1] for k in grid}))
    inspectors = sorted({i for cell in grid.values() for i in cell})
    deviations = tuple(_deviation(i, grid, ref) for i in inspectors)
    kept = tuple(d for d in deviations if d is not None)
    return CalibrationReport(items, kept, source, _overall(grid))


def _grid(scores: Sequence[CalibrationScore]) -> dict[Key, dict[int, float]]:
    grid: dict[Key, dict[int, float]] = defaultdict(dict)
    for s in scores:
        key = (s.call_id, s.item_code)
        if s.inspector_id in grid[key]:
            raise CalibrationError(
                f"inspector {s.inspector_id} scored call {s.call_id} item {s.item_code} twice"
            )
        if s.value is not None:
            grid[key][s.inspector_id] = float(s.value)
    return {k: v for k, v in grid.items() if v}


def _consensus(grid: Mapping[Key, Mapping[int, float]]) -> dict[Key, float]:
    return {key: float(np.mean(list(cell.values()))) for key, cell in grid.items()}


def _item_agreement(code: str, grid: Mapping[Key, Mapping[int, float]]) -> ItemAgreement:
    cells = [cell for (call, item), cell in sorted(grid.items()) if item == code]
    raters = sorted(set.intersection(*(set(c) for c in cells))) if cells else []
    rows = [[cell[r] for r in raters] for cell in cells]
    fleiss = icc = pairwise = None
    if len(raters) >= 2 and rows:
        fleiss = fleiss_kappa_from_ratings(rows)
        icc = icc_2_1(rows) if len(rows) >= 2 else None
        pairs = [
            cohen_kappa([r[a] for r in rows], [r[b] for r in rows])
            for a, b in itertools.combinations(range(len(raters)), 2)
        ]
        defined = [p for p in pairs if p is not None]
        pairwise = float(np.mean(defined)) if defined else None
    return ItemAgreement(code, len(rows), len(raters), fleiss, icc, pairwise)


def _overall(grid: Mapping[Key, Mapping[int, float]]) -> OverallAgreement:
    cells = sorted(grid)
    raters = sorted(set.intersection(*(set(grid[k]) for k in cells))) if cells else []
    calls = sorted({call for call, _item in cells})
    fleiss = icc = None
    if len(raters) >= 2:
        fleiss = fleiss_kappa_from_ratings([[grid[k][r] for r in raters] for k in cells])
        totals = [[sum(grid[k][r] for k in cells if k[0] == c) for r in raters] for c in calls]
        icc = icc_2_1(totals) if len(calls) >= 2 else None
    return OverallAgreement(len(cells), len(calls), len(raters), fleiss, icc)


def _deviation(
    inspector: int, grid: Mapping[Key, Mapping[int, float]], ref: Mapping[Key, float]
) -> InspectorDeviation | None:
    pairs = [
        (cell[inspector], ref[key], key)
        for key, cell in sorted(grid.items())
        if inspector in cell and key in ref
    ]
    if not pairs:
        return None
    diffs = np.array([own - r for own, r, _ in pairs])
    per_call: dict[int, float] = defaultdict(float)
    for own, r, (call, _item) in pairs:
        per_call[call] += own - r
    kappa = cohen_kappa([own for own, _, _ in pairs], [round(r, 6) for _, r, _ in pairs])
    return InspectorDeviation(
        inspector,
        len(pairs),
        float(diffs.mean()),
        float(np.abs(diffs).mean()),
        float((np.abs(diffs) < 1e-9).mean()),
        float(np.mean(list(per_call.values()))),
        kappa,
    )
