"""Errors users meet are shown in their language (Chinese first, English on request)."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qa_platform.domain.errors import Invalid
from qa_platform.domain.messages import catalogue, render
from scoring.scorecard import ScorecardError, default_scorecard, results_from_mapping
from scoring.workflow import Actor, ActorRole, Evaluation, WorkflowError, WorkflowPolicy

ROOT = Path(__file__).resolve().parents[2]
INSPECTOR, AGENT = Actor(10, ActorRole.INSPECTOR), Actor(30, ActorRole.AGENT)
T0 = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)
CJK = re.compile("[\u4e00-\u9fff]")


def _evaluation() -> Evaluation:
    card = default_scorecard()
    return Evaluation(
        1,
        call_id=500,
        agent_id=AGENT.user_id,
        inspector_id=INSPECTOR.user_id,
        scorecard=card,
        policy=WorkflowPolicy(),
        call_duration_s=180.0,
    )


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_message_has_both_languages_with_the_same_fields() -> None:
    for key, entry in catalogue()["errors"].items():
        assert set(entry) == {"zh", "en"}, key
        assert CJK.search(entry["zh"]), f"{key}: the Chinese text has no Chinese"
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    used = set()
    for path in [
        *ROOT.glob("qa_platform/**/*.py"),
        *ROOT.glob("scoring/**/*.py"),
        *ROOT.glob("web/**/*.py"),
    ]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\.of\(\s*\"([a-z_.]+)\"", text))
        used |= {
            f"workflow.reason.{r}"
            for r in re.findall(r"_fail\([^\"]*\"[^\"]*\",\s*\w+,\s*\"([a-z_]+)\"", text)
        }
    missing = sorted(k for k in used if k not in catalogue()["errors"])
    assert used and not missing, missing


def test_workflow_refusal_in_chinese_names_action_state_and_reason() -> None:
    ev = _evaluation()
    with pytest.raises(WorkflowError) as caught:
        ev.submit(INSPECTOR, T0)  # still assigned: must be started first
    zh = caught.value.localized("zh")
    assert "无法提交评价 1" in zh and "已分配" in zh and "草稿" in zh and "质检员" in zh
    assert caught.value.localized("en") == str(caught.value)
    assert "allowed only in state draft" in str(caught.value)


def test_a_scorecard_error_inside_a_refusal_is_translated_too() -> None:
    ev = _evaluation()
    ev.start(INSPECTOR, T0)
    with pytest.raises(WorkflowError) as caught:
        ev.record_scores(results_from_mapping({"no_such_item": 1}), INSPECTOR, T0)
    assert "没有评分项 'no_such_item'" in caught.value.localized("zh")
    assert "has no item 'no_such_item'" in caught.value.localized("en")


def test_keyed_error_keeps_english_as_its_text() -> None:
    err = ScorecardError.of("scorecard.no_na", code="'greeting'")
    assert str(err) == "item 'greeting' does not allow N/A"
    assert err.localized("zh") == "评分项 'greeting' 不允许选择不适用（N/A）"


def test_plain_error_reads_the_same_in_every_language() -> None:
    err = Invalid("field 'x' is wrong")
    assert err.localized("zh") == err.localized("en") == "field 'x' is wrong"


def test_lists_and_terms_are_translated() -> None:
    text = render("workflow.reason.state", {"states": ["draft", "returned"]}, "zh")
    assert text == "只允许在以下状态进行：草稿、已退回"
    assert (
        render("workflow.reason.state", {"states": ["draft"]}, "en")
        == "allowed only in state draft"
    )
