"""Report metrics against a hand-computed fixture (the arithmetic is written next to each figure).

The fixture: 8 calls, 6 published evaluations (5 random, 1 targeted), 3 appeals.

    call team agent btype analysed flags                              evaluation
    1    A    a1    理赔   yes      long_silence                       e1 random  i1  90 pass        sat 5
    2    A    a1    理赔   yes      -                                  e2 random  i1  70 fail biz-err sat 2  appeal→revised
    3    A    a1    保全   yes      abuse_customer, long_silence ×2    e3 targeted i2 60 fail red line biz+comp err sat 1 appeal undecided
    4    A    a2    理赔   yes      -                                  e4 random  i2   0 fail red line comp-err sat 4 appeal→upheld
    5    A    a2    保全   no       -                                  -
    6    B    b1    理赔   yes      complaint_risk                     e6 random  i2  85 pass        sat 3
    7    B    b1    保全   yes      -                                  e7 random  i1  95 pass        sat -
    8    B    b1    保全   yes      -                                  -
"""

from __future__ import annotations

import pytest

from scoring.reports import (
    EvaluationFact,
    InspectorAgreement,
    ItemCount,
    MetricsError,
    ReportInputs,
    aggregate_calls,
    compute_metrics,
    mean_ci,
    pearson,
    spearman,
    wilson,
)

CALLS = [
    ("A", "a1", "理赔", True, ["long_silence"]),
    ("A", "a1", "理赔", True, []),
    ("A", "a1", "保全", True, ["abuse_customer", "long_silence", "long_silence"]),
    ("A", "a2", "理赔", True, []),
    ("A", "a2", "保全", False, []),
    ("B", "b1", "理赔", True, ["complaint_risk"]),
    ("B", "b1", "保全", True, []),
    ("B", "b1", "保全", True, []),
]


def _ev(eid, call, stream, team, agent, btype, insp, total, passed, red, biz, comp, **kw):
    return EvaluationFact(
        eid, call, stream, team, agent, btype, insp, total, passed, red, biz, comp, **kw
    )


EVALS = [
    _ev(1, 1, "random", "A", "a1", "理赔", "i1", 90.0, True, 0, False, False, satisfaction=5),
    _ev(
        2,
        2,
        "random",
        "A",
        "a1",
        "理赔",
        "i1",
        70.0,
        False,
        0,
        True,
        False,
        satisfaction=2,
        appealed=True,
        appeal_decision="revised",
    ),
    _ev(
        3,
        3,
        "targeted",
        "A",
        "a1",
        "保全",
        "i2",
        60.0,
        False,
        1,
        True,
        True,
        satisfaction=1,
        appealed=True,
    ),
    _ev(
        4,
        4,
        "random",
        "A",
        "a2",
        "理赔",
        "i2",
        0.0,
        False,
        1,
        False,
        True,
        satisfaction=4,
        appealed=True,
        appeal_decision="upheld",
    ),
    _ev(6, 6, "random", "B", "b1", "理赔", "i2", 85.0, True, 0, False, False, satisfaction=3),
    _ev(7, 7, "random", "B", "b1", "保全", "i1", 95.0, True, 0, False, False),
]

ITEMS = [
    ItemCount("answer_accuracy", "业务解答准确", "business_accuracy", False, 5, 0, 1, 92.0, 100.0),
    ItemCount("identity_check", "双因素身份核验", "compliance", False, 3, 2, 1, 20.0, 30.0),
    ItemCount("misleading_sales", "误导销售", "compliance", True, 5, 0, 1, 0.0, 0.0),
    # the same item in another scorecard version: merged into one line
    ItemCount("answer_accuracy", "业务解答准确", "business_accuracy", False, 1, 0, 1, 10.0, 20.0),
]

AGREEMENTS = [InspectorAgreement("i1", 1, 10, 0.9, 0.8, 0.5)]


@pytest.fixture(scope="module")
def report() -> dict:
    calls, flags = aggregate_calls(CALLS)
    return compute_metrics(ReportInputs(calls, flags, EVALS, ITEMS, AGREEMENTS))


def by_name(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["name"] == name)


def test_volume_counts_received_analysed_and_flagged_calls(report):
    c = report["centre"]
    assert (c["calls_received"], c["calls_analysed"]) == (8, 7)
    assert c["flagged_calls"] == 3  # calls 1, 3, 6
    assert c["flagged_rate"] == pytest.approx(3 / 7)
    # calls, not flag occurrences: call 3's two long_silence flags count once
    assert c["flagged_by_type"] == {"abuse_customer": 1, "complaint_risk": 1, "long_silence": 2}


def test_sample_size_and_coverage_use_random_stream_over_analysed_calls(report):
    c = report["centre"]
    assert c["sample_size"] == 5  # e1 e2 e4 e6 e7; e3 is targeted
    assert c["coverage"] == pytest.approx(5 / 7)


def test_mean_score_with_t_interval_and_finite_population_correction(report):
    c = report["centre"]
    # x̄ = (90+70+0+85+95)/5 = 68; deviations 22, 2, −68, 17, 27 → Σd² = 6130, s² = 6130/4 = 1532.5
    # s/√n = √1532.5/√5 = 17.5071; t(0.975, 4) = 2.776445 → 48.6076
    # FPC √((N−n)/(N−1)) = √((7−5)/6) = 0.577350 → half-width 28.0636 → [39.9364, 96.0636]
    assert c["mean_score"] == 68.0
    assert c["mean_score_ci_low"] == pytest.approx(39.936379, abs=1e-5)
    assert c["mean_score_ci_high"] == pytest.approx(96.063621, abs=1e-5)


def test_mean_interval_without_population_has_no_correction():
    ci = mean_ci([90, 70, 0, 85, 95], None)
    assert (ci.low, ci.high) == pytest.approx((68 - 48.607617, 68 + 48.607617), abs=1e-5)


def test_mean_interval_needs_two_scores():
    assert mean_ci([95.0], 3).low is None
    assert mean_ci([], 3).estimate is None


def test_pass_rate_with_wilson_interval(report):
    c = report["centre"]
    # p̂ = 3/5 = 0.6; z = 1.959964, z² = 3.841459; denom = 1 + z²/n = 1.768292
    # centre = (0.6 + z²/10)/denom = 0.556551; half = z/denom·√(0.24/5 + z²/100) = 0.325828
    assert c["pass_rate"] == 0.6
    assert c["pass_rate_ci_low"] == pytest.approx(0.230724, abs=1e-6)
    assert c["pass_rate_ci_high"] == pytest.approx(0.882379, abs=1e-6)


def test_wilson_rejects_impossible_counts():
    with pytest.raises(MetricsError, match=r"within 0\.\.3"):
        wilson(4, 3)


def test_red_lines_and_appendix_a_accuracies(report):
    c = report["centre"]
    assert c["red_lines"] == 1  # e4 (random); e3's red line is targeted
    assert c["targeted_red_lines"] == 1
    # 业务准确率 = 未发生业务差错的数量/监控的业务总量 = 4/5 (e2 has a business error)
    assert c["business_accuracy"] == 0.8
    # 合规准确率 = 未发生违反法规差错的数量/监控的业务总量 = 4/5 (e4 has a compliance error)
    assert c["compliance_accuracy"] == 0.8


def test_targeted_stream_is_counted_apart(report):
    c = report["centre"]
    assert (c["targeted_evaluations"], c["targeted_mean_score"]) == (1, 60.0)


def test_appeal_and_overturn_rates(report):
    c = report["centre"]
    # appeal rate: 3 appealed (e2, e3, e4) of 6 published = 0.5
    assert (c["appeals"], c["published_evaluations"], c["appeal_rate"]) == (3, 6, 0.5)
    # overturn rate: 1 revised (e2) of 2 decided (e2, e4) = 0.5; e3 is still undecided
    assert (c["appeals_decided"], c["appeals_revised"], c["overturn_rate"]) == (2, 1, 0.5)


def test_team_rows(report):
    a, b = by_name(report["teams"], "A"), by_name(report["teams"], "B")
    # A: calls 1–5, 4 analysed, random e1 e2 e4 → mean (90+70+0)/3, pass 1/3, coverage 3/4
    assert (a["calls_received"], a["calls_analysed"], a["flagged_calls"]) == (5, 4, 2)
    assert a["mean_score"] == pytest.approx(160 / 3, abs=1e-6)
    assert (a["pass_rate"], a["coverage"]) == (pytest.approx(1 / 3, abs=1e-6), 0.75)
    assert a["business_accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert (a["appeal_rate"], a["overturn_rate"]) == (0.75, 0.5)
    # B: 85, 95 → x̄ 90, s = 7.0711, s/√2 = 5, t(0.975,1) = 12.706205 → 63.531
    # FPC √((3−2)/2) = 0.707107 → ±44.923218
    assert b["mean_score"] == 90.0
    assert b["mean_score_ci_low"] == pytest.approx(45.076782, abs=1e-5)
    assert b["mean_score_ci_high"] == pytest.approx(134.923218, abs=1e-5)


def test_agent_rows_carry_their_team(report):
    a1 = by_name(report["agents"], "a1")
    assert (a1["team"], a1["calls_received"], a1["sample_size"], a1["mean_score"]) == (
        "A",
        3,
        2,
        80.0,
    )
    a2 = by_name(report["agents"], "a2")
    assert (a2["calls_received"], a2["calls_analysed"], a2["red_lines"]) == (2, 1, 1)


def test_business_type_rows(report):
    claims, service = (
        by_name(report["business_types"], "理赔"),
        by_name(report["business_types"], "保全"),
    )
    assert (claims["calls_received"], claims["sample_size"]) == (4, 4)
    assert claims["mean_score"] == 61.25  # (90+70+0+85)/4
    assert (service["calls_received"], service["calls_analysed"], service["sample_size"]) == (
        4,
        3,
        1,
    )
    assert service["mean_score_ci_low"] is None  # one score: no interval


def test_items_ranked_by_failure_rate(report):
    items = report["items"]
    assert [i["item_code"] for i in items] == [
        "answer_accuracy",
        "identity_check",
        "misleading_sales",
    ]
    acc = items[0]
    # merged over two scorecard versions: rated 5+1, failed 1+1, earned 92+10 of 100+20
    assert (acc["rated"], acc["failed"], acc["rank"]) == (6, 2, 1)
    assert acc["failure_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert acc["score_rate"] == 0.85
    assert items[1]["na"] == 2
    assert items[2]["score_rate"] is None and items[2]["failure_rate"] == 0.2  # red line: 1/5


def test_flag_types(report):
    flags = report["flag_types"]
    assert [f["flag_type"] for f in flags] == ["long_silence", "abuse_customer", "complaint_risk"]
    assert (flags[0]["calls"], flags[0]["flags"]) == (2, 3)
    assert flags[0]["share"] == pytest.approx(2 / 7, abs=1e-6)


def test_inspector_workload_and_agreement(report):
    i1, i2 = by_name(report["inspectors"], "i1"), by_name(report["inspectors"], "i2")
    # i1: e1 e2 e7 → (90+70+95)/3 = 85; e2 appealed and revised → overturn 1/1
    assert (i1["evaluations"], i1["random"], i1["mean_score_given"]) == (3, 3, 85.0)
    assert (i1["appeals"], i1["overturn_rate"], i1["calibration_agreement"]) == (1, 1.0, 0.9)
    # i2: e3 e4 e6 → (60+0+85)/3; appeals e3 (open), e4 (upheld) → overturn 0/1
    assert (i2["evaluations"], i2["targeted"], i2["overturn_rate"]) == (3, 1, 0.0)
    assert i2["mean_score_given"] == pytest.approx(145 / 3, abs=1e-6)
    assert i2["calibration_agreement"] is None


def test_consistency_rate_and_satisfaction(report):
    s = report["consistency"]
    # rated random evaluations: e1 (5), e2 (2), e4 (4), e6 (3); satisfied = ≥ 4 → e1, e4
    assert (s["satisfaction_rated"], s["satisfaction_rate"]) == (4, 0.5)
    # 评价一致率: e1 no error & satisfied ✓, e2 error & unsatisfied ✓, e4 no biz error & satisfied ✓,
    # e6 no error & unsatisfied ✗ → 3/4
    assert (s["consistent"], s["consistency_rate"]) == (3, 0.75)


def test_correlation_of_business_accuracy_and_satisfaction(report):
    s = report["consistency"]
    # x = [1, 0, 1, 1], y = [5, 2, 4, 3]: Σdxdy = 1.5, Σdx² = 0.75, Σdy² = 5 → r = 1.5/√3.75
    assert s["call_pearson"] == pytest.approx(0.774597, abs=1e-6)
    # ranks x = [3, 1, 3, 3], y = [4, 1, 3, 2] → 3/√15
    assert s["call_spearman"] == pytest.approx(0.774597, abs=1e-6)
    # agents a1 (0.5, 0.5), a2 (1, 1), b1 (1, 0): Σdxdy = 0 → r = 0
    assert (s["agent_pairs"], s["agent_pearson"], s["agent_spearman"]) == (3, 0.0, 0.0)


def test_correlation_is_undefined_for_constant_or_short_input():
    assert pearson([1, 1, 1], [1, 2, 3]) is None
    assert spearman([1, 2], [2, 1]) is None
    with pytest.raises(MetricsError, match="pairs"):
        pearson([1, 2, 3], [1, 2])


def test_score_histogram(report):
    counts = [b["count"] for b in report["score_histogram"]]
    assert counts == [1, 0, 0, 0, 0, 0, 0, 1, 1, 2]  # 0 | 70 | 85 | 90, 95 (100 falls in the last)


def test_a1_satisfaction_counts_every_rated_call_apart_from_the_sample():
    from scoring.reports.metrics import aggregate_calls as count_calls
    from scoring.reports.metrics import volume_metrics

    # (team, agent, business type, analysed, flag types, rating): 3 of 4 rated, 2 satisfied
    calls, flags = count_calls(
        [
            ("A", "a1", "x", True, [], 5),
            ("A", "a1", "x", True, [], 4),
            ("A", "a2", "x", False, [], 2),
            ("B", "b1", "x", True, [], None),
        ]
    )
    v = volume_metrics(calls, flags)
    assert (v["customers_rated"], v["customers_satisfied"]) == (3, 2)
    assert v["customer_satisfaction_rate"] == pytest.approx(2 / 3)
    v = volume_metrics(*count_calls([("A", "a1", "x", True, [])]))
    assert v["customers_rated"] == 0 and v["customer_satisfaction_rate"] is None
