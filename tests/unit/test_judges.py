"""Automatic judges (机器判定): the scorecard's ``auto`` field and the pure judge."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from qa_platform.domain.transcript import Role, Severity
from scoring.call_metrics import NO_METRICS, CallMetrics, Evidence
from scoring.judges import judge
from scoring.scorecard import (
    AutoJudge,
    ScorecardError,
    default_scorecard,
    scorecard_from_mapping,
    scorecard_to_mapping,
)
from tests.factories import flag

CARD: dict[str, Any] = {
    "name": "auto_small",
    "version": 1,
    "pass_mark": 80,
    "sections": [
        {
            "code": "main",
            "items": [
                {
                    "code": "greeting",
                    "title": "问候并报工号",
                    "category": "etiquette",
                    "points": 6,
                    "auto": {"flags": ["missing_greeting", "missing_agent_id"], "deduct": 3},
                },
                {
                    "code": "rate",
                    "title": "语速",
                    "category": "etiquette",
                    "points": 4,
                    "auto": {"metric": "agent_cpm", "min": 90, "max": 180, "deduct": 4},
                },
                {
                    "code": "accuracy",
                    "title": "准确",
                    "category": "business_accuracy",
                    "points": 10,
                    "auto": "none",
                },
                {
                    "code": "abuse",
                    "title": "辱骂客户",
                    "category": "attitude",
                    "red_line": True,
                    "auto": {"flags": ["abuse_agent"]},
                },
            ],
        }
    ],
}


def card(**changes: Any):
    data = copy.deepcopy(CARD)
    for code, auto in changes.items():
        item = next(i for i in data["sections"][0]["items"] if i["code"] == code)
        item["auto"] = auto
    return scorecard_from_mapping(data)


def metrics(cpm: float | None) -> CallMetrics:
    return CallMetrics({"agent_cpm": cpm}, {"agent_cpm": (Evidence("agent_cpm", 1, 9, "快"),)})


def test_each_flag_of_the_item_deducts_its_points_and_never_below_zero() -> None:
    c = card()
    one = judge(
        c, [flag("missing_agent_id", start=0.5, end=4.0, evidence="未报工号")], metrics(130)
    )
    assert one.item("greeting").score == 3.0
    assert one.item("greeting").evidence == (Evidence("missing_agent_id", 0.5, 4.0, "未报工号"),)
    both = judge(c, [flag("missing_agent_id"), flag("missing_greeting")], metrics(130))
    assert both.item("greeting").score == 0.0
    many = card(greeting={"flags": ["missing_agent_id"], "deduct": 4})
    assert judge(many, [flag("missing_agent_id")] * 3, metrics(130)).item("greeting").score == 0.0


def test_total_covers_judged_items_only_and_a_red_line_zeroes_it() -> None:
    c = card()
    result = judge(c, [flag("missing_greeting")], metrics(130))
    assert result.total == pytest.approx(100 * (3 + 4) / (6 + 4))  # accuracy is left to people
    assert result.item("accuracy").judged is False and result.item("accuracy").score is None
    assert result.passed is False  # 70 < 80
    abusive = judge(c, [flag("abuse_agent", Severity.CRITICAL, Role.AGENT)], metrics(130))
    assert abusive.item("abuse").violated and abusive.total == 0.0 and not abusive.passed
    assert abusive.red_line_violations == ("abuse",)
    clean = judge(c, [flag("abuse_customer")], metrics(130))  # the customer's words: no red line
    assert clean.total == 100.0 and clean.passed and not clean.item("abuse").violated


def test_a_metric_outside_its_bounds_deducts_once_and_unmeasured_is_left_to_people() -> None:
    c = card()
    assert judge(c, [], metrics(180.0)).item("rate").score == 4.0  # bounds are inclusive
    fast = judge(c, [], metrics(180.5)).item("rate")
    assert fast.score == 0.0 and fast.evidence[0].text == "快"
    assert judge(c, [], metrics(89.9)).item("rate").score == 0.0
    silent = judge(c, [], metrics(None)).item("rate")
    assert silent.judged is False and silent.passed is None
    assert judge(c, [], NO_METRICS).item("rate").judged is False


def test_to_dict_has_the_documented_shape() -> None:
    data = judge(card(), [flag("missing_agent_id", start=1, end=2, evidence="e")], metrics(130))
    out = json.loads(json.dumps(data.to_dict()))
    assert set(out) == {"scorecard", "version", "total", "passed", "items"}
    greeting = out["items"][0]
    assert greeting == {
        "code": "greeting",
        "score": 3.0,
        "points": 6.0,
        "judged": True,
        "violated": False,
        "evidence": [{"flag": "missing_agent_id", "start": 1.0, "end": 2.0, "text": "e"}],
    }


@pytest.mark.parametrize(
    ("auto", "fragment"),
    [
        ({"flags": ["no_such_flag"], "deduct": 1}, "no_such_flag"),
        ({"flags": ["missing_greeting"]}, "deduct"),
        ({"flags": ["missing_greeting"], "deduct": 7}, "deduct"),
        ({"flags": ["missing_greeting"], "deduct": math.nan}, "deduct"),
        ({"flags": ["missing_greeting"], "metric": "agent_cpm", "deduct": 1}, "exactly one"),
        ({"deduct": 1}, "exactly one"),
        ({"metric": "loudness", "max": 1, "deduct": 1}, "loudness"),
        ({"metric": "agent_cpm", "deduct": 1}, "min, max"),
        ({"metric": "agent_cpm", "min": 200, "max": 100, "deduct": 1}, "above max"),
        ({"metric": "agent_cpm", "max": math.inf, "deduct": 1}, "max inf"),
        ({"metric": "agent_cpm", "min": -5, "deduct": 1}, "min -5"),
        ({"metric": "agent_cpm", "max": "fast", "deduct": 1}, "not a number"),
        ({"flags": "missing_greeting", "deduct": 1}, "list of flag types"),
        ({"flags": ["missing_greeting"], "deduct": 1, "weight": 2}, "unknown fields"),
        ("sometimes", "mapping or 'none'"),
    ],
)
def test_an_invalid_judge_is_refused_naming_the_item(auto: Any, fragment: str) -> None:
    with pytest.raises(ScorecardError, match="greeting") as err:
        card(greeting=auto)
    assert fragment in str(err.value)


def test_a_red_line_judge_deducts_no_points() -> None:
    with pytest.raises(ScorecardError, match="abuse") as err:
        card(abuse={"flags": ["abuse_agent"], "deduct": 1})
    assert "red-line" in str(err.value)
    assert "机器判定" in err.value.localized("zh")


def test_a_card_without_auto_loads_and_keeps_its_fingerprint() -> None:
    data = copy.deepcopy(CARD)
    for item in data["sections"][0]["items"]:
        del item["auto"]
    old = scorecard_from_mapping(data)
    assert old.judged_items == ()
    stored = scorecard_to_mapping(old)
    assert all("auto" not in item for item in stored["sections"][0]["items"])
    explicit = copy.deepcopy(data)
    for item in explicit["sections"][0]["items"]:
        item["auto"] = "none"
    assert scorecard_from_mapping(explicit).fingerprint == old.fingerprint


def test_judges_round_trip_through_the_stored_mapping() -> None:
    c = card()
    again = scorecard_from_mapping(json.loads(json.dumps(scorecard_to_mapping(c))))
    assert again == c and again.fingerprint == c.fingerprint
    assert again.item("rate").auto == AutoJudge(metric="agent_cpm", min=90, max=180, deduct=4)


def test_the_default_card_judges_the_script_items_and_the_red_lines() -> None:
    c = default_scorecard()
    assert c.version == 3
    judged = {i.code: i.auto for i in c.judged_items}
    assert judged["greeting_agent_id"].flags == ("missing_greeting", "missing_agent_id")
    assert judged["identity_check"].flags == ("missing_identity_check",)
    assert judged["closing_phrase"].flags == ("missing_closing",)
    assert judged["no_interrupting"].flags == ("interruption",)
    assert judged["speech_rate"].metric == "agent_cpm"
    assert judged["no_filler_words"].metric == "filler_per_minute"
    assert judged["abuse_customer"].flags == ("abuse_agent",)
    assert judged["misleading_sales"].flags == ("misleading_promise",)
    assert judged["leak_customer_info"].metric == "agent_personal_data"
    assert "answer_accuracy" not in judged and "friendly_tone" not in judged


def test_script_items_are_left_to_people_when_the_agent_never_spoke() -> None:
    silent = CallMetrics({"agent_speech_s": 0.0, "agent_cpm": None})
    result = judge(card(), [], silent)
    assert result.item("greeting").judged is False  # no missing_* flag can fire without speech
    assert result.item("abuse").judged and not result.item("abuse").violated
    assert judge(card(), [], CallMetrics({"agent_speech_s": 12.0})).item("greeting").judged


def test_measured_metrics_of_a_call_without_agent_speech() -> None:
    from qa_platform.domain.transcript import AudioFeatures
    from qa_platform.flags import default_rule_set
    from scoring.call_metrics import measure

    m = measure(None, AudioFeatures(10.0), default_rule_set())
    assert m.values == {
        "agent_speech_s": 0.0,
        "agent_cpm": None,
        "filler_per_minute": None,
        "agent_personal_data": 0.0,
    }
    assert [i.code for i in judge(default_scorecard(), [], m).items if i.judged] == [
        "no_interrupting",
        "abuse_customer",
        "leak_customer_info",
        "misleading_sales",
    ]
