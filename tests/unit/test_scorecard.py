"""Scorecards: template validation, N/A denominators, red lines, pass mark, default card."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.scorecard import (
    Category,
    ItemResult,
    ScorecardError,
    default_scorecard,
    load_scorecard,
    results_from_mapping,
    scorecard_from_mapping,
    scorecard_to_mapping,
)

SMALL = {
    "name": "small",
    "version": 2,
    "pass_mark": 80,
    "sections": [
        {
            "code": "main",
            "items": [
                {"code": "greet", "title": "问候", "category": "etiquette", "points": 10},
                {
                    "code": "accuracy",
                    "title": "准确",
                    "category": "business_accuracy",
                    "points": 20,
                    "weight": 2,
                },
                {
                    "code": "identity",
                    "title": "核身",
                    "category": "compliance",
                    "points": 10,
                    "na_allowed": True,
                },
            ],
        },
        {
            "code": "red",
            "items": [
                {"code": "abuse", "title": "辱骂客户", "category": "attitude", "red_line": True},
            ],
        },
    ],
}


def card():
    return scorecard_from_mapping(SMALL)


def full(**overrides):
    base = {"greet": 10.0, "accuracy": 20.0, "identity": 10.0, "abuse": False}
    base.update(overrides)
    return results_from_mapping(base)


def test_full_marks_score_100_and_pass() -> None:
    result = card().score(full())
    assert result.total == 100.0 and result.passed
    assert not any(result.category_errors.values())


def test_weighted_score() -> None:
    # earned = 10 + 2*10 + 10 = 40 of 10 + 40 + 10 = 60
    result = card().score(full(accuracy=10.0))
    assert result.total == pytest.approx(100 * 40 / 60, abs=1e-3)
    assert not result.passed
    assert result.category_errors["business_accuracy"] is True
    assert result.category_errors["compliance"] is False


def test_na_item_leaves_the_denominator() -> None:
    result = card().score(full(identity="na", greet=5.0))
    assert result.applicable_points == 50.0  # 10 + 2*20, identity removed
    assert result.total == pytest.approx(100 * 45 / 50)
    assert result.category_scores["compliance"] is None


def test_red_line_zeroes_the_score() -> None:
    result = card().score(full(abuse=True))
    assert result.total == 0.0 and not result.passed
    assert result.red_line_violations == ("abuse",)
    assert result.category_errors["attitude"] is True


@settings(deadline=None)
@given(st.floats(0, 10), st.floats(0, 20), st.one_of(st.none(), st.floats(0, 10)), st.booleans())
def test_score_is_within_bounds_and_red_line_dominates(greet, acc, ident, abuse) -> None:
    results = full(
        greet=greet, accuracy=acc, identity="na" if ident is None else ident, abuse=abuse
    )
    result = card().score(results)
    assert 0.0 <= result.total <= 100.0
    if abuse:
        assert result.total == 0.0 and not result.passed
    assert result.passed == (not abuse and result.total >= 80)


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({"greet": 11.0}, r"within 0..10"),
        ({"greet": "na"}, "does not allow N/A"),
        ({"abuse": {"score": 3}}, "red-line item 'abuse' takes violated"),
        ({"greet": {"violated": True}}, "not a red-line item"),
        ({"nope": 1.0}, "has no item 'nope'"),
    ],
)
def test_bad_results_are_named(results, message) -> None:
    with pytest.raises(ScorecardError, match=message):
        card().check_results(results_from_mapping(results))


def test_incomplete_results_cannot_be_scored() -> None:
    with pytest.raises(ScorecardError, match=r"not scored yet: \['identity', 'abuse'\]"):
        card().score(results_from_mapping({"greet": 1.0, "accuracy": 2.0}))


def test_duplicate_item_result_is_refused() -> None:
    with pytest.raises(ScorecardError, match="scored twice"):
        card().check_results([ItemResult("greet", 1.0), ItemResult("greet", 2.0)])


def _broken(mutate) -> dict:
    data = copy.deepcopy(SMALL)
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["sections"][0]["items"][1].update(code="greet"), "duplicated"),
        (lambda d: d["sections"][0]["items"][0].update(category="speed"), "category 'speed'"),
        (lambda d: d["sections"][0]["items"][0].update(points=0), "points > 0"),
        (lambda d: d["sections"][0]["items"][0].update(weight=0), "weight must be > 0"),
        (lambda d: d["sections"][1]["items"][0].update(na_allowed=True), "cannot be N/A"),
        (lambda d: d.update(pass_mark=120), "pass_mark"),
        (lambda d: d.update(version=0), "version"),
        (lambda d: d.pop("sections"), "missing field 'sections'"),
        (lambda d: d["sections"][0]["items"][0].update(colour="red"), "unknown fields"),
    ],
)
def test_invalid_templates_are_rejected(mutate, message) -> None:
    with pytest.raises(ScorecardError, match=message):
        scorecard_from_mapping(_broken(mutate))


def test_round_trip_and_fingerprint_pin_the_version() -> None:
    original = card()
    again = scorecard_from_mapping(scorecard_to_mapping(original))
    assert again == original and again.fingerprint == original.fingerprint
    changed = scorecard_from_mapping(
        _broken(lambda d: d["sections"][0]["items"][0].update(points=5))
    )
    assert changed.fingerprint != original.fingerprint


def test_default_insurance_scorecard_from_the_seeds() -> None:
    default = default_scorecard()
    red_lines = {i.title for i in default.items if i.red_line}
    assert red_lines == {"辱骂客户", "泄露客户信息", "误导销售", "未核实身份办理业务"}
    assert sum(i.points for i in default.items if not i.red_line) == 100
    assert {i.category for i in default.items} == set(Category)
    codes = {i.code for i in default.items}
    assert {
        "greeting_agent_id",
        "identity_check",
        "answer_accuracy",
        "speech_rate",
        "closing_phrase",
    } <= codes


def test_load_scorecard_names_the_file(tmp_path) -> None:
    bad = tmp_path / "card.yaml"
    bad.write_text("name: x\nversion: 1\nsections: []\n", encoding="utf-8")
    with pytest.raises(ScorecardError, match=r"card.yaml: .*scored"):
        load_scorecard(bad)


# ----------------------------------------------------------------- 差错 (issue 14 item 8)
def _errors_card(marks: dict[str, dict] | None = None):
    items = [
        {"code": "accuracy", "title": "解答准确", "category": "business_accuracy", "points": 20},
        {"code": "complete", "title": "解答完整", "category": "business_accuracy", "points": 10},
        {"code": "identity", "title": "身份核验", "category": "compliance", "points": 10},
        {"code": "leak", "title": "泄露信息", "category": "compliance", "red_line": True},
    ]
    for item in items:
        item.update((marks or {}).get(item["code"], {}))
    return scorecard_from_mapping(
        {"name": "e", "version": 1, "sections": [{"code": "s", "title": "s", "items": items}]}
    )


def _errors(card, **scores):
    results = [
        ItemResult("accuracy", score=scores.get("accuracy", 20)),
        ItemResult("complete", score=scores.get("complete", 10)),
        ItemResult("identity", score=scores.get("identity", 10)),
        ItemResult("leak", violated=scores.get("leak", False)),
    ]
    return dict(card.score(results).category_errors)


def test_a_marked_scorecard_counts_only_marked_items_and_red_lines_as_errors():
    card = _errors_card(
        {"accuracy": {"error": True}, "identity": {"error": True, "error_below": 5}}
    )
    assert card.marks_errors
    # losing 3 points of 解答完整 is a lower score, not a 业务差错
    assert _errors(card, complete=7)["business_accuracy"] is False
    assert _errors(card, accuracy=19)["business_accuracy"] is True
    # identity is an error only below its error line (5 of 10)
    assert _errors(card, identity=5)["compliance"] is False
    assert _errors(card, identity=4)["compliance"] is True
    # a violated red line is always an error of its category
    assert _errors(card, leak=True)["compliance"] is True


def test_an_unmarked_scorecard_keeps_the_any_lost_point_reading():
    card = _errors_card()
    assert not card.marks_errors
    assert _errors(card, complete=7)["business_accuracy"] is True


def test_error_marks_are_checked_and_unset_marks_keep_old_fingerprints():
    with pytest.raises(ScorecardError, match="error_below needs error"):
        _errors_card({"accuracy": {"error_below": 10}})
    with pytest.raises(ScorecardError, match="error_below"):
        _errors_card({"accuracy": {"error": True, "error_below": 25}})  # above the points
    with pytest.raises(ScorecardError, match="error"):
        _errors_card({"accuracy": {"error": "yes"}})
    plain = _errors_card()
    again = scorecard_from_mapping(scorecard_to_mapping(plain))
    assert again.fingerprint == plain.fingerprint
    assert "error" not in scorecard_to_mapping(plain)["sections"][0]["items"][0]
    marked = _errors_card({"accuracy": {"error": True}})
    assert marked.fingerprint != plain.fingerprint
    assert scorecard_from_mapping(scorecard_to_mapping(marked)) == marked


def test_the_default_scorecard_marks_the_seed_errors():
    card = default_scorecard()
    marked = {i.code for i in card.items if i.error}
    assert marked == {"answer_accuracy", "identity_check", "sales_disclosure"}
