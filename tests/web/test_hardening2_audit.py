"""Every disclosure of transcript content or a report export is audited with the real actor;
access denials are audited at most DENIALS_AUDITED_PER_MINUTE times per actor per minute."""

from __future__ import annotations

from sqlalchemy import select

from qa_platform.services.access import DENIALS_AUDITED_PER_MINUTE
from scoring import services as svc
from scoring.reports import compute_report
from scoring.scorecard import default_scorecard
from storage.models import AuditEvent
from tests.factories import DAY, DURING_WINDOW, build_report_world
from tests.web.conftest import Browser, as_user


def _rows(platform, action: str) -> list[AuditEvent]:
    with platform.uow() as uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        uow.session.expunge_all()
        return list(rows)


def test_transcript_views_are_audited_once_per_view(app, world, platform):
    insp = as_user(app, "insp")
    assert insp.get(f"/evaluations/{world.evaluation_id}").status_code == 200
    sup = as_user(app, "sup")
    assert sup.get(f"/calls/{world.call_id}").status_code == 200
    assert sup.get(f"/api/v1/calls/{world.call_id}/transcript").status_code == 200
    rows = _rows(platform, "transcript.view")
    got = sorted((r.actor, r.object_type, r.object_id) for r in rows)
    ids = world.ids
    assert got == sorted(
        [
            (f"user:{ids['insp']}", "evaluation", str(world.evaluation_id)),
            (f"user:{ids['sup']}", "call", str(world.call_id)),
            (f"user:{ids['sup']}", "call", str(world.call_id)),
        ]
    )


def test_scorecard_upload_names_the_supervisor(app, world, platform):
    card = default_scorecard()
    import dataclasses

    newer = dataclasses.replace(card, version=card.version + 1)
    svc.ensure_scorecard(platform.uow(), newer, actor=f"user:{world.ids['sup']}")
    rows = _rows(platform, "scorecard.add")
    assert rows[-1].actor == f"user:{world.ids['sup']}"


def test_access_denied_rows_are_rate_limited(app, world, platform):
    other = as_user(app, "agent2")
    for _ in range(DENIALS_AUDITED_PER_MINUTE + 15):
        assert other.get(f"/api/v1/calls/{world.call_id}/transcript").status_code == 404
    denied = [
        r for r in _rows(platform, "access.denied") if r.actor == f"user:{world.ids['agent2']}"
    ]
    assert len(denied) == DENIALS_AUDITED_PER_MINUTE


def test_report_export_is_audited(app, platform):
    build_report_world(platform)
    snap = compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW)
    sup = Browser(app.test_client())
    assert sup.login("sup1", "x").status_code == 303
    assert sup.get(f"/reports/{snap['id']}/export.csv").status_code == 200
    rows = _rows(platform, "report.export")
    assert [(r.object_id, r.details["format"]) for r in rows] == [(str(snap["id"]), "csv")]
    assert rows[0].actor.startswith("user:")
