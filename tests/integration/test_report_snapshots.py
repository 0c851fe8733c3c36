"""Report snapshots over real evaluations made through the scoring services.

Six analysed calls on Monday 2026-03-02 (Shanghai), all sampled in the random stream, scored,
approved and published on Tuesday; the appeal windows (3 working days) close on Friday.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from scoring import services as svc
from scoring.reports import (
    ReportError,
    compute_report,
    get_snapshot,
    list_snapshots,
    publish_report,
    visible_report,
)
from storage.audit import verify_chain
from storage.models import AuditEvent, User
from storage.models_reports import ReportSnapshot, SnapshotImmutableError
from tests.factories import AFTER_WINDOWS, DAY, DURING_WINDOW
from tests.factories import build_report_world as build_world


@pytest.fixture
def world(platform):
    return build_world(platform)


def _agent(platform, user_id):
    with platform.uow() as uow:
        row = uow.session.get(User, user_id)
        uow.session.expunge(row)
        return row


def test_report_is_stored_provisional_with_its_inputs(world):
    platform, _, _ = world
    snap = compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW)
    assert (snap["created"], snap["version"], snap["status"]) == (True, 1, "provisional")
    centre = snap["payload"]["centre"]
    assert (centre["calls_received"], centre["sample_size"], centre["coverage"]) == (6, 6, 1.0)
    # 3 of 6 lost points on answer_accuracy (a business-accuracy item): 业务准确率 = 3/6
    assert centre["business_accuracy"] == 0.5
    assert centre["flagged_by_type"] == {"long_silence": 1}
    assert snap["inputs"]["scorecards"] == ["insurance_phone_default:v3"]
    assert snap["inputs"]["rule_sets"] == ["rules-v1"]
    assert snap["payload"]["pending_evaluations"] == 6  # every window is still open


def test_identical_recompute_adds_no_version(world):
    platform, _, _ = world
    first = compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW)
    again = compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW + timedelta(hours=1))
    assert (again["created"], again["id"], again["version"]) == (False, first["id"], 1)


def test_stored_snapshot_content_cannot_change(world):
    platform, _, _ = world
    snap = compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW)
    with platform.uow() as uow:
        row = uow.session.get(ReportSnapshot, snap["id"])
        row.payload = {**row.payload, "centre": {}}
        with pytest.raises(SnapshotImmutableError, match="immutable"):
            uow.session.flush()
    assert get_snapshot(platform.uow(), snap["id"])["payload"] == snap["payload"]


def test_publish_rights_and_what_each_role_sees(world):
    platform, people, _ = world
    snap = compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW)
    agent = _agent(platform, people.agents[0])
    inspector = _agent(platform, people.inspectors[0])
    assert visible_report(inspector, snap) is None  # not published yet
    with pytest.raises(ReportError, match="may not publish"):
        publish_report(platform.uow(), snap["id"], agent.username)
    published = publish_report(platform.uow(), snap["id"], "sup1", now=DURING_WINDOW)
    assert published["published"] and published["published_by"] == people.supervisor
    assert visible_report(inspector, published)["payload"]["teams"]
    seen = visible_report(agent, published)["payload"]
    assert [r["name"] for r in seen["agents"]] == [agent.agent_code]
    assert "teams" not in seen and "inspectors" not in seen
    assert [s["id"] for s in list_snapshots(platform.uow(), published_only=True)] == [snap["id"]]


def test_revised_appeal_after_publication_adds_a_version_with_its_change(world):
    platform, _, _ = world
    u = platform.uow
    v1 = compute_report(u(), "daily", DAY, now=DURING_WINDOW)
    publish_report(u(), v1["id"], "sup1", now=DURING_WINDOW)
    appealed = next(e for e in svc.list_evaluations(u()) if e["total"] < 100)
    eid = appealed["evaluation_id"]
    agent = appealed["agent_id"]
    svc.file_appeal(u(), eid, agent, "口径已更新", ["answer_accuracy"], at=DURING_WINDOW)
    svc.assign_appeal_reviewer(u(), eid, "sup1", "sup2", at=DURING_WINDOW)
    svc.decide_appeal(
        u(), eid, "sup2", "revised", "改判", {"answer_accuracy": 20}, at=DURING_WINDOW
    )

    v2 = compute_report(u(), "daily", DAY, now=DURING_WINDOW + timedelta(hours=1))
    assert (v2["created"], v2["version"], v2["published"]) == (True, 2, False)
    moved = {c["path"]: (c["old"], c["new"]) for c in v2["changes"]}
    assert moved["centre.business_accuracy"] == (0.5, pytest.approx(4 / 6, abs=1e-6))
    assert moved["centre.appeals"] == (0, 1)
    assert moved["centre.overturn_rate"] == (None, 1.0)
    assert "centre.calls_received" not in moved
    old = get_snapshot(u(), v1["id"])
    assert old["payload"] == v1["payload"] and old["published"]  # version 1 untouched
    assert v2["inputs"]["evaluation_versions_sha256"] != v1["inputs"]["evaluation_versions_sha256"]


def test_final_once_the_last_appeal_window_closes(world):
    platform, _, _ = world
    u = platform.uow
    snap = compute_report(u(), "daily", DAY, now=DURING_WINDOW)
    svc.close_appeal_windows(u(), at=AFTER_WINDOWS)
    final = compute_report(u(), "daily", DAY, now=AFTER_WINDOWS)
    # same figures: the same row, now final; the transition is audited
    assert (final["created"], final["id"], final["status"]) == (False, snap["id"], "final")
    assert final["payload"]["pending_evaluations"] == 6  # stored payload stays as computed
    with u() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "report")
            .order_by(AuditEvent.id)  # without an order PostgreSQL may return either first
        ).all()
        assert actions == ["report.computed", "report.finalised"]
        assert verify_chain(uow.session).ok


def test_final_snapshot_cannot_go_back(world):
    platform, _, _ = world
    svc.close_appeal_windows(platform.uow(), at=AFTER_WINDOWS)
    snap = compute_report(platform.uow(), "daily", DAY, now=AFTER_WINDOWS)
    assert snap["status"] == "final" and snap["version"] == 1
    with platform.uow() as uow:
        uow.session.get(ReportSnapshot, snap["id"]).status = "provisional"
        with pytest.raises(SnapshotImmutableError, match="final"):
            uow.session.flush()


def test_weekly_and_monthly_cover_the_day(world):
    platform, _, _ = world
    week = compute_report(platform.uow(), "weekly", DAY, now=DURING_WINDOW)
    month = compute_report(platform.uow(), "monthly", DAY, now=DURING_WINDOW)
    assert (week["period_label"], week["period_start"], week["period_end"]) == (
        "2026-W10",
        "2026-03-02",
        "2026-03-09",
    )
    assert (month["period_label"], month["period_end"]) == ("2026-03", "2026-04-01")
    assert (
        week["payload"]["centre"]["sample_size"] == month["payload"]["centre"]["sample_size"] == 6
    )
    assert week["payload"]["trend"]["previous_label"] == "2026-W09"


def test_quarterly_and_half_year_reports_cover_their_months(world):
    platform, _, _ = world
    month = compute_report(platform.uow(), "monthly", DAY, now=AFTER_WINDOWS)
    quarter = compute_report(platform.uow(), "quarterly", DAY, now=AFTER_WINDOWS)
    half = compute_report(platform.uow(), "half_yearly", DAY, now=AFTER_WINDOWS)
    assert (quarter["period_label"], half["period_label"]) == ("2026-Q1", "2026-H1")
    assert quarter["payload"]["title"] == "品质季报 2026-Q1"
    for snap in (quarter, half):  # the world's calls are all in March 2026
        assert snap["payload"]["centre"]["calls_received"] == 6
        assert (
            snap["payload"]["centre"]["business_accuracy"]
            == month["payload"]["centre"]["business_accuracy"]
        )
    assert quarter["payload"]["trend"]["previous_label"] == "2025-Q4"
