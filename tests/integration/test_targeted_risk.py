"""The targeted stream selects by risk (专项质检 by risk): machine red-line suspects, the lowest
auto scores and complaint cases; the random stream can never select by them."""

from __future__ import annotations

import pytest

from qa_platform.domain.transcript import Role, Severity
from qa_platform.services import complaints
from qa_platform.services.context import Platform
from scoring import services as svc
from scoring.plan import SamplingPlan
from scoring.sampling import SamplingError
from scoring.services import autoqa
from tests.factories import add_call, analyse_call, flag, make_people

ABUSE = flag("abuse_agent", Severity.CRITICAL, Role.AGENT, 3.0, 4.0, "骂人")
NO_CLOSING = flag("missing_closing", Severity.WARNING, Role.AGENT, 14.0, 19.5, "没有结束语")
NO_GREETING = flag("missing_greeting", Severity.WARNING, Role.AGENT, 0.0, 3.0, "没有问候")
RISK = flag("complaint_risk", Severity.WARNING, Role.CUSTOMER, 5.0, 6.0, "我要投诉")


@pytest.fixture
def calls(platform: Platform) -> dict[str, int]:
    """Six analysed calls with auto evaluations: a red-line suspect, two low scores (one lower),
    a clean call, a call with an open complaint and one whose proposed complaint was dismissed."""
    people = make_people(platform, inspectors=1, agents=2)
    given = {
        "red_line": [ABUSE],
        "low": [NO_CLOSING],
        "lower": [NO_CLOSING, NO_GREETING],
        "clean": [],
        "complaint": [],
        "dismissed": [RISK],
    }
    ids = {}
    for name, flags in given.items():
        agent = people.agents[len(ids) % 2]
        ids[name] = add_call(platform, agent, people.teams[agent], status="queued")
        analyse_call(platform, ids[name], flags)
        autoqa.evaluate_call(platform, ids[name])
    complaints.open_case(platform, [ids["complaint"]], "complaint", "客户投诉理赔慢", "sup1")
    [proposed] = complaints.propose_from_flags(platform)
    complaints.dismiss_case(platform, proposed, "客户只是抱怨，不是投诉", "sup1")
    return ids


def _auto_total(platform: Platform, call_id: int) -> float:
    from qa_platform.queries.calls import show_call

    return float(show_call(platform, call_id)["auto_evaluation"]["total"])


def _plan(**fields: object) -> SamplingPlan:
    return SamplingPlan("risk", stream="targeted", method="targeted", **fields).validate()


def test_each_risk_selects_its_calls_and_names_the_reason(
    platform: Platform, calls: dict[str, int]
) -> None:
    threshold = _auto_total(platform, calls["clean"])  # below a clean call's score
    plan = _plan(risks=("auto_red_line", "auto_low_score", "complaint"), auto_score_below=threshold)
    run = svc.run_sampling(platform.uow(), plan, seed=5)
    assert run["stream"] == "targeted"
    assert set(run["call_ids"]) == {
        calls["red_line"],
        calls["low"],
        calls["lower"],
        calls["complaint"],
    }
    assert run["allocation"]["complaint"] == 1  # the dismissed proposal does not count
    assert svc.verify_run(platform.uow(), run["run_id"])["sample_identical"]


def test_a_per_type_limit_takes_the_lowest_auto_scores_not_a_random_pick(
    platform: Platform, calls: dict[str, int]
) -> None:
    # the red line zeroes its call's score: 0 < the two deductions < one deduction
    totals = [_auto_total(platform, calls[k]) for k in ("red_line", "lower", "low")]
    assert totals == sorted(totals) and totals[0] == 0 and len(set(totals)) == 3
    threshold = _auto_total(platform, calls["clean"])
    plan = _plan(risks=("auto_low_score",), auto_score_below=threshold, per_type_limit=2)
    for seed in (1, 2, 3):
        run = svc.run_sampling(platform.uow(), plan, seed=seed)
        assert run["call_ids"] == sorted([calls["red_line"], calls["lower"]])
        assert run["frame_size"] == 3  # every low call is in the frame


def test_flags_and_risks_combine_and_a_call_counts_once(
    platform: Platform, calls: dict[str, int]
) -> None:
    plan = _plan(flag_types=("abuse_agent",), risks=("auto_red_line",))
    run = svc.run_sampling(platform.uow(), plan, seed=7)
    assert run["call_ids"] == [calls["red_line"]]
    assert sum(run["allocation"].values()) == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"risks": ("auto_red_line",)}, "the random stream cannot select by flag or risk"),
        ({"auto_score_below": 60.0}, "the random stream cannot select by flag or risk"),
    ],
)
def test_the_random_stream_refuses_risks(fields: dict, message: str) -> None:
    with pytest.raises(SamplingError, match=message):
        SamplingPlan("r", size=3, **fields).validate()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"risks": ("auto_low_score",)}, "auto_low_score risk and auto_score_below go together"),
        ({"risks": ("auto_red_line",), "auto_score_below": 60.0}, "go together"),
        ({"risks": ("sentiment",)}, r"unknown risks \['sentiment'\]"),
        ({"risks": ("auto_low_score",), "auto_score_below": -1.0}, "must be above 0"),
        ({"risks": ("auto_low_score",), "auto_score_below": 5000.0}, "at most 1000"),
        ({}, "needs flag_types or risks"),
    ],
)
def test_a_targeted_plan_names_what_is_wrong_with_its_risks(fields: dict, message: str) -> None:
    with pytest.raises(SamplingError, match=message):
        _plan(**fields)


def test_a_plan_mapping_with_a_non_finite_threshold_is_refused() -> None:
    data = {
        "name": "x",
        "stream": "targeted",
        "method": "targeted",
        "risks": ["auto_low_score"],
        "auto_score_below": float("nan"),
    }
    with pytest.raises(SamplingError, match="auto_score_below' must be a finite number"):
        SamplingPlan.from_mapping(data)
