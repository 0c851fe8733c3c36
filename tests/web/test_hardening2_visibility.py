"""Totals an agent may not see yet (unpublished) or an inspector does not own stay hidden."""

from __future__ import annotations

from qa_platform.queries.calls import call_page, search_calls
from qa_platform.services.auth import SessionUser
from storage.models import User
from storage.models_scoring import EvaluationRow
from tests.web.conftest import as_user, row_version
from tests.web.test_workflow_pages import full_form


def _approve(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    html = insp.get(f"/evaluations/{eid}").get_data(as_text=True)
    insp.post(
        f"/evaluations/{eid}/save",
        {"row_version": row_version(html), "action": "submit", **full_form(platform, eid)},
    )
    sup = as_user(app, "sup")
    html = sup.get(f"/evaluations/{eid}").get_data(as_text=True)
    sup.post(f"/evaluations/{eid}/review", {"row_version": row_version(html), "action": "approve"})
    with platform.uow() as uow:
        row = uow.session.get(EvaluationRow, eid)
        assert row.state == "approved" and row.total is not None
        return row.total


def _session_user(platform, username):
    with platform.uow() as uow:
        return SessionUser.of(uow.session.query(User).filter_by(username=username).one())


def test_agent_search_hides_and_cannot_filter_unpublished_totals(app, world, platform):
    total = _approve(app, world, platform)
    agent = _session_user(platform, "agent")
    rows = search_calls(platform, agent, {"agent": "A001"})
    assert rows and all(r["score"] is None for r in rows)
    assert search_calls(platform, agent, {"score_min": 0.0, "score_max": 100.0}) == []
    html = as_user(app, "agent").get("/calls?score_min=0&agent=A001").get_data(as_text=True)
    assert f"{total:.1f}" not in html
    sup = _session_user(platform, "sup")
    assert search_calls(platform, sup, {"score_min": 0.0})[0]["score"] == total


def test_inspector_sees_only_own_totals_on_call_page(app, world, platform):
    total = _approve(app, world, platform)
    own = call_page(platform, world.call_id, _session_user(platform, "insp"))
    assert [e["total"] for e in own["evaluations"]] == [total]
    other = call_page(platform, world.call_id, _session_user(platform, "insp2"))
    assert [e["total"] for e in other["evaluations"]] == [None]
    assert search_calls(platform, _session_user(platform, "insp2"), {"score_min": 0.0}) == []
