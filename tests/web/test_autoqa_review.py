"""Machine suggestions on the evaluation page (机器建议): pre-filled, accepted or overridden with a
reason, stored through the workflow command, shown to the supervisor beside the inspector's score."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from qa_platform.domain.transcript import Role, Severity
from qa_platform.services.context import Platform
from scoring import services as scoring
from scoring.services import autoqa
from scoring.services.autoqa_review import OverrideReasonError
from storage.models_autoqa import SuggestionDecisionRow
from tests.factories import StoryWorld, flag, set_flags
from tests.web.conftest import as_user, row_version

# the story call: agent id missing (greeting_agent_id 6 → 3), identity not checked (10 → 0)
MACHINE_FLAGS = [
    flag("missing_agent_id", Severity.WARNING, Role.AGENT, 0.0, 3.0, "未报工号", "2026.11-1"),
    flag(
        "missing_identity_check", Severity.WARNING, Role.AGENT, 6.8, 10.0, "未核验身份", "2026.11-1"
    ),
]


def judged_world(platform: Platform, world: StoryWorld) -> None:
    """Give the story call the machine's flags and run the auto-QA stage on it."""
    set_flags(platform, {world.call_id: MACHINE_FLAGS})
    autoqa.evaluate_call(platform, world.call_id)


def decisions(platform: Platform, evaluation_id: int) -> dict[str, SuggestionDecisionRow]:
    with platform.uow() as uow:
        rows = uow.session.scalars(
            select(SuggestionDecisionRow).where(
                SuggestionDecisionRow.evaluation_id == evaluation_id
            )
        ).all()
        uow.session.expunge_all()
        return {r.item_code: r for r in rows}


def field_value(html: str, name: str) -> str:
    m = re.search(rf'name="{name}"[^>]*?value="([^"]*)"', html, re.S)
    assert m, name
    return m.group(1)


def test_the_form_arrives_prefilled_with_the_suggestion_and_its_evidence(app, world, platform):
    judged_world(platform, world)
    html = as_user(app, "insp").get(f"/evaluations/{world.evaluation_id}").get_data(as_text=True)
    assert field_value(html, "score_greeting_agent_id") == "3.0"
    assert field_value(html, "score_identity_check") == "0.0"
    assert 'id="machine-greeting_agent_id"' in html and "机器建议" in html
    # the evidence seeks the player like the flag list does (data-seek, no inline script)
    assert re.search(r'data-seek="0.0">00:00</button> <strong>未报工号</strong>', html)
    assert 'data-seek="6.8">00:06</button> <strong>' in html
    assert 'id="accept-all"' in html and "onclick" not in html
    # an item the machine does not judge stays blank
    assert field_value(html, "score_answer_accuracy") == ""


def test_an_override_without_a_reason_saves_nothing_and_names_the_item(app, world, platform):
    judged_world(platform, world)
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    html = insp.get(f"/evaluations/{eid}").get_data(as_text=True)
    form = {"row_version": row_version(html), "action": "save", "score_greeting_agent_id": "5"}
    r = insp.post(f"/evaluations/{eid}/save", form, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "规范问候并报工号" in page and "请填写改判理由" in page
    assert decisions(platform, eid) == {}
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "assigned"


def test_accepted_and_overridden_items_are_stored_with_the_reason(app, world, platform):
    judged_world(platform, world)
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    html = insp.get(f"/evaluations/{eid}").get_data(as_text=True)
    form = {
        "row_version": row_version(html),
        "action": "save",
        "score_greeting_agent_id": "3",  # as suggested
        "score_identity_check": "10",  # the machine said 0
        "reason_identity_check": "录音 00:07 已核验保单号和身份证",
        "reason_greeting_agent_id": "ignored: accepted",
    }
    assert insp.post(f"/evaluations/{eid}/save", form).status_code == 303
    stored = decisions(platform, eid)
    assert stored["greeting_agent_id"].decision == "accepted"
    assert stored["greeting_agent_id"].reason == ""
    over = stored["identity_check"]
    assert (over.decision, over.suggested_score, over.entered_score) == ("overridden", 0.0, 10.0)
    assert over.reason == "录音 00:07 已核验保单号和身份证"
    # saving again rewrites the decisions (one row per item), here back to the suggestion
    html = insp.get(f"/evaluations/{eid}").get_data(as_text=True)
    form |= {"row_version": row_version(html), "score_identity_check": "0"}
    assert insp.post(f"/evaluations/{eid}/save", form).status_code == 303
    again = decisions(platform, eid)
    assert again["identity_check"].decision == "accepted" and len(again) == len(stored)


def test_the_supervisor_sees_suggestion_score_and_reason(app, world, platform):
    judged_world(platform, world)
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    html = insp.get(f"/evaluations/{eid}").get_data(as_text=True)
    form = {
        "row_version": row_version(html),
        "action": "submit",
        **{k: field_value(html, k) for k in re.findall(r'name="(score_[a-z_]+)"', html)},
    }
    form = {k: (v or "0") for k, v in form.items()}
    form |= {"score_identity_check": "10", "reason_identity_check": "客户已报身份证后四位"}
    r = insp.post(f"/evaluations/{eid}/save", form, follow_redirects=True)
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "submitted", r.get_data(
        as_text=True
    )
    page = as_user(app, "sup").get(f"/evaluations/{eid}").get_data(as_text=True)
    row = re.search(
        r'<tr class="cmp-overridden" id="compare-identity_check">(.*?)</tr>', page, re.S
    )
    assert row, page
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert "双因素身份核验" in cells[0] and cells[1].strip() == "0" and cells[2].strip() == "10"
    assert "已改判" in cells[3] and "客户已报身份证后四位" in cells[4]
    assert 'id="compare-greeting_agent_id"' in page and "已采纳" in page


def test_the_command_refuses_an_override_without_reason(world, platform):
    judged_world(platform, world)
    with pytest.raises(OverrideReasonError) as caught:
        scoring.save_scores(
            platform.uow(),
            world.evaluation_id,
            "insp",
            {"identity_check": 10.0},
            open_draft=True,
            override_reasons={},
        )
    assert "双因素身份核验" in caught.value.localized("zh")
    assert scoring.show_evaluation(platform.uow(), world.evaluation_id)["state"] == "assigned"
    with pytest.raises(OverrideReasonError):
        scoring.save_scores(
            platform.uow(),
            world.evaluation_id,
            "insp",
            {"identity_check": 10.0},
            open_draft=True,
            override_reasons={"identity_check": "长" * 501},
        )


def test_retention_erases_the_override_reason_with_the_call(world, platform):
    from qa_platform.services.retention import ERASED_TEXT, erase_call_content

    judged_world(platform, world)
    scoring.save_scores(
        platform.uow(),
        world.evaluation_id,
        "insp",
        {"identity_check": 10.0, "greeting_agent_id": 3.0},
        open_draft=True,
        override_reasons={"identity_check": "客户说身份证后四位是 1234"},
    )
    with platform.uow() as uow:
        erased = erase_call_content(uow.session, world.call_id)
        uow.commit()
    assert erased["autoqa_suggestion_decisions"] == 2
    stored = decisions(platform, world.evaluation_id)
    assert stored["identity_check"].reason == ERASED_TEXT
    assert stored["identity_check"].decision == "overridden"
    assert {r.auto_evaluation_id for r in stored.values()} == {None}
