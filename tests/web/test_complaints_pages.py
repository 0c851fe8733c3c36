"""The complaint desk in the browser (投诉工单页面): a proposal from a flagged call is seen in the
alert list, confirmed, and closed with its outcome; bad input is refused in Chinese."""

from __future__ import annotations

from flask import Flask

from qa_platform.domain.transcript import Role, Severity
from qa_platform.services import complaints as svc
from qa_platform.services import flags as flag_service
from qa_platform.services.context import Platform
from tests.factories import StoryWorld, flag
from tests.web.conftest import as_user, row_version


def _proposal(platform: Platform, world: StoryWorld) -> int:
    risk = flag("complaint_risk", Severity.CRITICAL, Role.CUSTOMER, 3.0, 4.0, "“银保监会”")
    with platform.uow() as uow:
        flag_service.replace_flags(uow.session, {world.call_id: [risk]})
        uow.commit()
    (case_id,) = svc.scan(platform).proposed
    return case_id


def test_a_supervisor_sees_the_alert_confirms_and_closes_the_case(
    app: Flask, platform: Platform, world: StoryWorld
) -> None:
    case_id = _proposal(platform, world)
    sup = as_user(app, "sup")
    listing = sup.get("/complaints").get_data(as_text=True)
    assert 'id="complaint-alerts"' in listing and f'data-case="{case_id}"' in listing
    assert "重大投诉" in listing and "系统提议" in listing

    page = sup.get(f"/complaints/{case_id}").get_data(as_text=True)
    confirm = {"action": "confirm", "kind": "complaint", "row_version": str(row_version(page))}
    resp = sup.post(f"/complaints/{case_id}/action", confirm)
    assert resp.status_code == 303
    assert svc.show_case(platform, case_id).state == "open"

    page = sup.get(f"/complaints/{case_id}").get_data(as_text=True)
    empty = {"action": "close", "text": " ", "row_version": str(row_version(page))}
    sup.post(f"/complaints/{case_id}/action", empty)
    after = sup.get(f"/complaints/{case_id}").get_data(as_text=True)
    assert "“处理结果”不能为空" in after
    assert svc.show_case(platform, case_id).state == "open"

    done = {"action": "close", "text": "已回电致歉并补办保全", "row_version": empty["row_version"]}
    sup.post(f"/complaints/{case_id}/action", done)
    closed = svc.show_case(platform, case_id)
    assert closed.state == "closed" and closed.outcome == "已回电致歉并补办保全"
    assert "已回电致歉并补办保全" in sup.get(f"/complaints/{case_id}").get_data(as_text=True)


def test_a_stale_form_conflicts_and_agents_are_refused(
    app: Flask, platform: Platform, world: StoryWorld
) -> None:
    case_id = _proposal(platform, world)
    sup = as_user(app, "sup")
    stale = {"action": "confirm", "row_version": "99"}
    sup.post(f"/complaints/{case_id}/action", stale)
    assert svc.show_case(platform, case_id).state == "proposed"
    agent = as_user(app, "agent")
    assert agent.get("/complaints").status_code == 403
    assert agent.post(f"/complaints/{case_id}/action", {"action": "confirm"}).status_code == 403


def test_a_supervisor_opens_a_case_from_the_call_page(
    app: Flask, platform: Platform, world: StoryWorld
) -> None:
    sup = as_user(app, "sup")
    page = sup.get(f"/calls/{world.call_id}").get_data(as_text=True)
    assert 'id="open-complaint"' in page
    resp = sup.post(
        f"/calls/{world.call_id}/complaints", {"kind": "grievance", "summary": "客户不满等待时间"}
    )
    assert resp.status_code == 303
    (case,) = svc.list_cases(platform)
    assert case.call_ids == (world.call_id,) and case.kind == "grievance"
    assert case.alerted_at is not None  # the supervisors were alerted at once (log notifier)
    page = sup.get(f"/calls/{world.call_id}").get_data(as_text=True)
    assert f"/complaints/{case.id}" in page and "抱怨" in page
    sup.post(f"/calls/{world.call_id}/complaints", {"kind": "complaint", "summary": ""})
    assert "“摘要”不能为空" in sup.get(f"/calls/{world.call_id}").get_data(as_text=True)
    assert len(svc.list_cases(platform)) == 1
    inspector_page = as_user(app, "insp").get(f"/calls/{world.call_id}").get_data(as_text=True)
    assert 'id="open-complaint"' not in inspector_page
