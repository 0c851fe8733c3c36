"""Machine–human agreement: percent, Cohen's kappa and its interval against hand-computed values.

Case A (a=20, b=5, c=10, d=15, n=50): p_o = 35/50 = 0.7; p_e = (25·30 + 25·20)/50² = 0.5;
κ = (0.7 − 0.5)/(1 − 0.5) = 0.4; SE = √(0.7·0.3 / (50·0.5²)) = √0.0168 = 0.129615;
95 % CI = 0.4 ± 1.959964·0.129615 = [0.145957, 0.654043].
Case B (a=45, b=15, c=25, d=15, n=100): p_o = 0.6; p_e = (60·70 + 40·30)/100² = 0.54;
κ = 0.06/0.46 = 0.130435; SE = √(0.24 / (100·0.46²)) = 0.106500;
95 % CI = 0.130435 ± 0.208733 = [−0.078298, 0.339168].
"""

from __future__ import annotations

import math

import pytest

from scoring.agreement import Confusion, agreement, agreement_report, kappa_interval
from scoring.calibration import CalibrationError


def test_case_a_matches_the_hand_computation() -> None:
    c = Confusion(20, 5, 10, 15)
    kappa, low, high = kappa_interval(c)
    assert kappa == pytest.approx(0.4)
    assert low == pytest.approx(0.145957, abs=1e-5) and high == pytest.approx(0.654043, abs=1e-5)
    a = agreement("greeting", c.pairs(), threshold=0.6)
    assert a.percent == pytest.approx(0.7) and a.weak and a.n == 50


def test_case_b_matches_the_hand_computation_and_the_interval_may_cross_zero() -> None:
    kappa, low, high = kappa_interval(Confusion(45, 15, 25, 15))
    assert kappa == pytest.approx(0.130435, abs=1e-6)
    assert low == pytest.approx(-0.078298, abs=1e-5) and high == pytest.approx(0.339168, abs=1e-5)


def test_a_wider_confidence_gives_a_wider_interval() -> None:
    c = Confusion(20, 5, 10, 15)
    _, low95, high95 = kappa_interval(c, 0.95)
    _, low99, high99 = kappa_interval(c, 0.99)
    assert low99 < low95 and high99 > high95
    assert high99 - 0.4 == pytest.approx(2.575829 * 0.129615, abs=1e-5)


def test_perfect_agreement_is_one_and_a_single_category_is_undefined() -> None:
    perfect = agreement("x", [(True, True)] * 10 + [(False, False)] * 10, 0.6)
    assert (perfect.kappa, perfect.ci_low, perfect.ci_high, perfect.weak) == (1.0, 1.0, 1.0, False)
    same = agreement("x", [(True, True)] * 12, 0.6)
    assert same.kappa is None and same.percent == 1.0 and not same.weak
    assert same.to_dict()["kappa_ci"] is None
    empty = agreement("x", [], 0.6)
    assert empty.n == 0 and empty.percent is None and empty.kappa is None


def test_confusion_counts_machine_first() -> None:
    c = Confusion.of([(True, False), (True, False), (False, True), (True, True)])
    assert c.to_dict() == {
        "both_pass": 1,
        "machine_pass_human_fail": 2,
        "machine_fail_human_pass": 1,
        "both_fail": 0,
    }


def test_the_report_pools_every_item_decision_and_lists_weak_items() -> None:
    good = [(True, True)] * 8 + [(False, False)] * 2
    poor = Confusion(20, 5, 10, 15).pairs()
    report = agreement_report("2026-12", {"closing": good, "greeting": poor}, 0.6, 60)
    assert report.weak_items == ("greeting",)
    assert report.overall.n == 60
    assert report.overall.confusion == Confusion(28, 5, 10, 17)
    data = report.to_dict()
    assert data["stream"] == "random" and data["items"][0]["code"] == "closing"


@pytest.mark.parametrize("bad", [math.nan, 1.5, -2.0, math.inf])
def test_a_threshold_outside_minus_one_to_one_is_refused(bad: float) -> None:
    with pytest.raises(CalibrationError, match="threshold"):
        agreement("x", [(True, True)], bad)


@pytest.mark.parametrize("bad", [0.0, 1.0, math.nan])
def test_a_confidence_outside_zero_to_one_is_refused(bad: float) -> None:
    with pytest.raises(CalibrationError, match="confidence"):
        kappa_interval(Confusion(1, 1, 1, 1), bad)
