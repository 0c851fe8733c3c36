"""The coaching loop (辅导): a published result below the pass mark or with a red line opens a
task for the agent's team lead; the agent acknowledges; the lead records the coaching; the
agent's next published call after it is the follow-up check; a revision that passes withdraws
the task. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner

from qa_platform.cli import main
from qa_platform.domain.errors import Conflict, Forbidden, Invalid, NotFound
from qa_platform.services import people as people_svc
from qa_platform.services import users
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from scoring import services as svc
from scoring.scorecard import default_scorecard
from scoring.services import coaching
from storage.models import User
from tests.factories import FULL, People, evaluation_on_new_call, make_people, publish_scored

DAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def below_pass() -> dict:
    """FULL with the biggest items zeroed until the total is under the pass mark (no red line)."""
    card = default_scorecard()
    scores, total = dict(FULL), sum(i.points for i in card.items if not i.red_line)
    for item in sorted((i for i in card.items if not i.red_line), key=lambda i: -i.points):
        if total < card.pass_mark:
            break
        scores[item.code], total = 0, total - item.points
    return scores


def viewer(platform: Platform, username: str) -> SessionUser:
    with platform.uow() as uow:
        from sqlalchemy import select

        return SessionUser.of(
            uow.session.scalars(select(User).where(User.username == username)).one()
        )


@pytest.fixture
def world(platform: Platform) -> tuple[Platform, People]:
    p = make_people(platform, inspectors=3, agents=2)
    people_svc.set_team_lead(platform, "A", "sup1", "admin")
    return platform, p


def publish(platform: Platform, p: People, agent: int, scores: dict, day: date = DAY) -> int:
    ev = evaluation_on_new_call(platform, agent, p.inspectors[2], "sup1", day)
    at = datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC)
    publish_scored(platform, ev, p.inspectors[2], "sup1", scores, at=at)
    return ev


def test_a_result_below_the_pass_mark_opens_one_task_for_the_team_lead(world) -> None:
    platform, p = world
    ev = publish(platform, p, p.agents[0], below_pass())
    publish(platform, p, p.agents[0], FULL, DAY + timedelta(days=1))  # a pass opens nothing
    [task] = coaching.list_tasks(platform, viewer(platform, "sup1"))
    assert (task.evaluation_id, task.state, task.reasons) == (ev, "open", ("below_pass",))
    assert task.lead == "sup1" and task.team == "A" and task.total < 80


def test_a_red_line_opens_a_task_naming_the_item(world) -> None:
    platform, p = world
    publish(platform, p, p.agents[1], dict(FULL, abuse_customer=True))
    [task] = coaching.list_tasks(platform, viewer(platform, "agent1"))
    assert task.reasons == ("below_pass", "red_line:abuse_customer") and task.total == 0
    assert task.red_lines == ("辱骂客户",)  # the scorecard item's title
    assert task.lead is None  # team B has no lead: its supervisors coach


def test_acknowledge_coach_and_the_next_call_closes_the_task(world) -> None:
    platform, p = world
    publish(platform, p, p.agents[0], below_pass())
    [task] = coaching.list_tasks(platform, viewer(platform, "agent0"))
    agent, lead = viewer(platform, "agent0"), viewer(platform, "sup1")
    acked = coaching.acknowledge(platform, agent, task.id, at=AT)
    assert acked.acknowledged_at == AT.isoformat()
    with pytest.raises(Forbidden):
        coaching.record_coaching(platform, agent, task.id, "自己辅导自己")
    with pytest.raises(Invalid, match="say what was done"):
        coaching.record_coaching(platform, lead, task.id, "   ")
    with pytest.raises(Conflict):
        coaching.record_coaching(platform, lead, task.id, "x", expected_version=1)
    coached = coaching.record_coaching(
        platform, lead, task.id, "复听录音，讲解核身流程", at=AT + timedelta(hours=1)
    )
    assert (coached.state, coached.coached_by) == ("coached", "sup1")
    with pytest.raises(Conflict):
        coaching.record_coaching(platform, lead, task.id, "again")
    later = publish(platform, p, p.agents[0], FULL, DAY + timedelta(days=3))
    done = coaching.show_task(platform, lead, task.id)
    assert (done.state, done.follow_up_evaluation_id, done.follow_up_passed) == (
        "closed",
        later,
        True,
    )


def test_a_revision_that_passes_withdraws_the_task(world) -> None:
    platform, p = world
    ev = publish(platform, p, p.agents[0], below_pass())
    u = platform.uow
    svc.file_appeal(u(), ev, p.agents[0], "我核对过身份", ["identity_check"], at=AT)
    svc.decide_appeal(u(), ev, "sup2", "revised", "复核属实", FULL, at=AT + timedelta(hours=2))
    [task] = coaching.list_tasks(platform, viewer(platform, "sup1"))
    assert task.state == "withdrawn"


def test_a_supervisor_outside_the_team_does_not_see_the_task(world) -> None:
    platform, p = world
    publish(platform, p, p.agents[0], below_pass())  # team A
    users.set_scope(platform, "sup2", ["B"])
    sup2 = viewer(platform, "sup2")
    assert coaching.list_tasks(platform, sup2) == []
    [task] = coaching.list_tasks(platform, viewer(platform, "sup1"))
    with pytest.raises(NotFound):
        coaching.record_coaching(platform, sup2, task.id, "越权")
    with pytest.raises(NotFound):
        coaching.acknowledge(platform, viewer(platform, "agent1"), task.id)


def test_hire_date_and_team_lead_are_checked(world) -> None:
    platform, _ = world
    assert people_svc.set_hire_date(platform, "agent0", "2026-02-10", "admin")["hire_date"] == (
        "2026-02-10"
    )
    for bad in ("2026-13-01", "tomorrow", "2999-01-01"):
        with pytest.raises(Invalid, match="hire date"):
            people_svc.set_hire_date(platform, "agent0", bad, "admin")
    with pytest.raises(Invalid, match="a team lead is a supervisor"):
        people_svc.set_team_lead(platform, "A", "agent1", "admin")


def test_the_cli_lists_and_coaches_in_json(world) -> None:
    platform, p = world
    publish(platform, p, p.agents[0], below_pass())
    run = CliRunner()
    listed = run.invoke(main, ["coaching", "list", "--as", "sup1", "--json"])
    assert listed.exit_code == 0, listed.output
    [task] = json.loads(listed.stdout)
    assert task["state"] == "open" and task["reasons"] == ["below_pass"]
    done = run.invoke(
        main, ["coaching", "coach", str(task["id"]), "--note", "讲解话术", "--as", "sup1", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["state"] == "coached"
    bad = run.invoke(main, ["coaching", "list", "--as", "nobody", "--json"])
    assert bad.exit_code == 2 and "nobody" in bad.output
