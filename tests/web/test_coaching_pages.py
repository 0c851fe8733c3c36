"""Coaching tasks (辅导) in the browser: the agent acknowledges, the lead records the coaching,
bad input is refused in Chinese and nothing is saved, an outsider gets 404."""

from __future__ import annotations

import re

from qa_platform.services import people, users
from scoring.services import coaching
from tests.factories import FULL, publish_scored
from tests.web.conftest import as_user


def _task(platform, world) -> int:
    """The story's evaluation published with a red line: one coaching task for agent A001."""
    ids = world.ids
    publish_scored(
        platform, world.evaluation_id, ids["insp"], ids["sup"], dict(FULL, abuse_customer=True)
    )
    from sqlalchemy import select

    from storage.models_coaching import CoachingTaskRow

    with platform.uow() as uow:
        return int(uow.session.scalars(select(CoachingTaskRow.id)).one())


def _flash(html: str) -> str:
    found = re.search(r'class="flash[^"]*error[^"]*"[^>]*>(.*?)<', html, re.S)
    return found.group(1).strip() if found else ""


def test_the_agent_sees_the_task_in_chinese_and_acknowledges_it(app, world, platform) -> None:
    task_id = _task(platform, world)
    agent = as_user(app, "agent")
    html = agent.get("/coaching").get_data(as_text=True)
    assert "辅导任务" in html and "红线：辱骂客户" in html and "确认已阅" in html
    r = agent.post(f"/coaching/{task_id}/acknowledge")
    assert r.status_code == 303
    after = agent.get("/coaching").get_data(as_text=True)
    assert "已确认" in after and 'class="ack"' not in after  # the flash, no button left
    assert coaching.show_task(platform, _user(platform, "agent"), task_id).acknowledged_at


def _user(platform, name):
    from sqlalchemy import select

    from qa_platform.services.auth import SessionUser
    from storage.models import User

    with platform.uow() as uow:
        return SessionUser.of(uow.session.scalars(select(User).where(User.username == name)).one())


def test_the_lead_records_the_coaching_and_an_empty_note_is_refused(app, world, platform) -> None:
    people.set_team_lead(platform, "一组", "sup", "admin")  # the lead is named when it opens
    task_id = _task(platform, world)
    sup = as_user(app, "sup")
    r = sup.post(f"/coaching/{task_id}/coach", {"note": "  ", "row_version": "1"})
    assert r.status_code == 303
    html = sup.get("/coaching").get_data(as_text=True)
    assert "请填写辅导内容" in html
    assert coaching.show_task(platform, _user(platform, "sup"), task_id).state == "open"
    r = sup.post(
        f"/coaching/{task_id}/coach", {"note": "复听录音，讲解服务用语", "row_version": "9"}
    )
    assert "已被他人修改" in sup.get("/coaching").get_data(as_text=True)
    sup.post(f"/coaching/{task_id}/coach", {"note": "复听录音，讲解服务用语", "row_version": "1"})
    done = coaching.show_task(platform, _user(platform, "sup"), task_id)
    assert (done.state, done.coaching_note, done.lead) == (
        "coached",
        "复听录音，讲解服务用语",
        "sup",
    )
    assert "复听录音，讲解服务用语" in sup.get("/coaching").get_data(as_text=True)


def test_a_supervisor_outside_the_team_gets_404_and_sees_no_task(app, world, platform) -> None:
    task_id = _task(platform, world)
    users.set_scope(platform, "sup2", ["二组"])
    sup2 = as_user(app, "sup2")
    assert (
        sup2.post(f"/coaching/{task_id}/coach", {"note": "越权", "row_version": "1"}).status_code
        == 404
    )
    assert f'data-task="{task_id}"' not in sup2.get("/coaching").get_data(as_text=True)
    other_agent = as_user(app, "agent2")
    assert other_agent.post(f"/coaching/{task_id}/acknowledge").status_code == 404
