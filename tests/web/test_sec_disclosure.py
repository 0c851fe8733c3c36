"""Showing flag evidence or an agent's result is audited (transcript.view) with the real actor."""

from __future__ import annotations

from sqlalchemy import select

from qa_platform.services.auth import create_token
from storage.models import AuditEvent
from tests.factories import publish_scored
from tests.web.conftest import as_user


def _views(platform, object_type: str, object_id: int) -> list[tuple[str, dict]]:
    with platform.uow() as uow:
        rows = uow.session.execute(
            select(AuditEvent.actor, AuditEvent.details)
            .where(
                AuditEvent.action == "transcript.view",
                AuditEvent.object_type == object_type,
                AuditEvent.object_id == str(object_id),
            )
            .order_by(AuditEvent.seq)
        ).all()
    return [(a, dict(d)) for a, d in rows]


def test_flags_api_is_audited_with_the_session_user(app, world, platform):
    insp = as_user(app, "insp")
    r = insp.get(f"/api/v1/calls/{world.call_id}/flags")
    assert r.status_code == 200 and r.get_json()["call_id"] == world.call_id
    assert _views(platform, "call", world.call_id) == [
        (f"user:{world.ids['insp']}", {"role": "inspector", "via": "api flags"})
    ]


def test_flags_api_is_audited_with_the_token_owner(app, world, platform):
    token = create_token(platform, "sup", "flags")
    r = app.test_client().get(
        f"/api/v1/calls/{world.call_id}/flags", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200
    ((actor, details),) = _views(platform, "call", world.call_id)
    assert actor == f"user:{world.ids['sup']}" and details["via"] == "api flags"


def test_flags_api_refuses_another_agents_call_and_writes_no_view(app, world, platform):
    agent2 = as_user(app, "agent2")  # agent A002; the call is A001's
    assert agent2.get(f"/api/v1/calls/{world.call_id}/flags").status_code in (403, 404)
    assert _views(platform, "call", world.call_id) == []


def test_my_result_page_is_audited_for_the_agent_only(app, world, platform):
    eid = world.evaluation_id
    publish_scored(platform, eid, world.ids["insp"], world.ids["sup"])
    assert as_user(app, "agent2").get(f"/my/results/{eid}").status_code in (403, 404)
    assert _views(platform, "evaluation", eid) == []
    assert as_user(app, "agent").get(f"/my/results/{eid}").status_code == 200
    assert _views(platform, "evaluation", eid) == [
        (f"user:{world.ids['agent']}", {"role": "agent", "via": "my results"})
    ]
