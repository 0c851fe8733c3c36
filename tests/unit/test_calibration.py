"""Calibration statistics checked against published textbook values."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from scoring.calibration import (
    CalibrationError,
    CalibrationScore,
    analyse_session,
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_from_ratings,
    icc_2_1,
)

# Shrout & Fleiss (1979), Table 2: 6 targets × 4 judges; ICC(2,1) = 0.29.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]

# Fleiss (1971) example as tabulated on Wikipedia "Fleiss' kappa": 10 subjects, 14 raters; κ = 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_icc_2_1_shrout_fleiss() -> None:
    assert icc_2_1(SHROUT_FLEISS) == pytest.approx(0.2898, abs=1e-4)


def test_fleiss_kappa_textbook() -> None:
    assert fleiss_kappa(FLEISS_TABLE) == pytest.approx(0.2099, abs=1e-4)


def test_cohen_kappa_textbook_two_by_two() -> None:
    # 50 proposals: yes/yes 20, yes/no 5, no/yes 10, no/no 15 → κ = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=60))
def test_cohen_kappa_matches_sklearn(pairs) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    ours = cohen_kappa(a, b)
    if ours is None:
        assert len(set(a) | set(b)) == 1
        return
    assert ours == pytest.approx(cohen_kappa_score(a, b), abs=1e-9)


def test_weighted_kappa_matches_sklearn_for_consecutive_scores() -> None:
    rnd = random.Random(1)
    x = [rnd.randint(0, 4) for _ in range(80)]
    y = [min(4, max(0, v + rnd.randint(-1, 1))) for v in x]
    for w in ("linear", "quadratic"):
        assert cohen_kappa(x, y, w) == pytest.approx(cohen_kappa_score(x, y, weights=w))


def test_perfect_agreement_and_undefined_cases() -> None:
    assert fleiss_kappa_from_ratings([[1, 1, 1], [2, 2, 2], [3, 3, 3]]) == pytest.approx(1.0)
    assert icc_2_1([[1, 1], [2, 2], [5, 5]]) == pytest.approx(1.0)
    assert cohen_kappa([1, 1], [1, 1]) is None  # one category only: undefined


def test_bad_input_is_named() -> None:
    with pytest.raises(CalibrationError, match="same number of ratings"):
        fleiss_kappa([[1, 1], [2, 1]])
    with pytest.raises(CalibrationError, match="need the same"):
        cohen_kappa([1, 2], [1])
    with pytest.raises(CalibrationError, match="at least 2 subjects"):
        icc_2_1([[1, 2]])


def _session() -> list[CalibrationScore]:
    """Three inspectors, four calls, two items; inspector 3 is systematically 2 points high."""
    base = {
        (1, "acc"): 10,
        (2, "acc"): 15,
        (3, "acc"): 20,
        (4, "acc"): 5,
        (1, "tone"): 8,
        (2, "tone"): 6,
        (3, "tone"): 4,
        (4, "tone"): 8,
    }
    out = []
    for (call, item), value in base.items():
        out.append(CalibrationScore(1, call, item, value))
        out.append(CalibrationScore(2, call, item, value))
        out.append(CalibrationScore(3, call, item, value + 2))
    return out


def test_session_deviation_from_supervisor_reference() -> None:
    reference = {(s.call_id, s.item_code): s.value for s in _session() if s.inspector_id == 1}
    report = analyse_session(_session(), reference)
    by_id = {d.inspector_id: d for d in report.inspectors}
    assert report.reference_source == "supervisor"
    assert by_id[1].mean_abs_deviation == 0 and by_id[1].agreement_rate == 1.0
    assert by_id[3].mean_deviation == pytest.approx(2.0)
    assert by_id[3].total_deviation == pytest.approx(4.0)  # two items per call, +2 each
    assert by_id[3].agreement_rate == 0.0


def test_session_item_agreement() -> None:
    report = analyse_session(_session())
    acc = next(i for i in report.items if i.item_code == "acc")
    assert (acc.calls, acc.raters) == (4, 3)
    assert 0.9 < acc.icc_2_1 < 1.0  # a constant offset lowers absolute agreement only a little
    assert report.reference_source == "consensus_mean"


def test_session_rejects_double_scores() -> None:
    scores = [CalibrationScore(1, 1, "acc", 1), CalibrationScore(1, 1, "acc", 2)]
    with pytest.raises(CalibrationError, match="twice"):
        analyse_session(scores)


def test_session_overall_agreement_over_cells_and_call_totals() -> None:
    """calib: overall Fleiss over every (call, item) cell, ICC(2,1) over each call's total."""
    overall = analyse_session(_session()).overall
    assert overall is not None and (overall.cells, overall.calls, overall.raters) == (8, 4, 3)
    cells = [[s.value for s in _session() if (s.call_id, s.item_code) == key] for key in _keys()]
    assert overall.fleiss_kappa == pytest.approx(fleiss_kappa_from_ratings(cells))
    totals = [[sum(r[i] for r in cells[2 * c : 2 * c + 2]) for i in range(3)] for c in range(4)]
    assert overall.icc_2_1_total == pytest.approx(icc_2_1(totals))


def test_session_overall_agreement_is_undefined_with_one_rater() -> None:
    overall = analyse_session([CalibrationScore(1, 1, "acc", 20)]).overall
    assert overall is not None and overall.raters == 1
    assert overall.fleiss_kappa is None and overall.icc_2_1_total is None


def _keys() -> list[tuple[int, str]]:
    """The (call, item) cells of ``_session`` by call, then item ("acc" before "tone")."""
    return sorted({(s.call_id, s.item_code) for s in _session()})
