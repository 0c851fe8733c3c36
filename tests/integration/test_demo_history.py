"""The demo's generated history (演示历史数据): eight weeks of calls, evaluations and appeals,
reproducible by seed, marked as generated, with daily/weekly/monthly report snapshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qa_platform.services.demo import SUPERVISOR, ensure_demo_people
from qa_platform.services.demo_history import HistoryError, generate_history
from scoring import reports
from storage.models import Call, CallFlag
from storage.models_reports import ReportSnapshot
from storage.models_scoring import AppealRow, EvaluationRow, EvaluationVersionRow

AGENTS = [("A1001", "一组"), ("A1002", "一组"), ("A2001", "二组"), ("A2002", "二组")]


def _fingerprint(platform) -> list[tuple]:
    with platform.uow() as uow:
        s = uow.session
        calls = s.execute(
            select(Call.external_id, Call.agent_code, Call.duration_s, Call.business_type)
            .where(Call.external_id.like("GEN-%"))
            .order_by(Call.id)
        ).all()
        totals = s.execute(
            select(EvaluationRow.call_id, EvaluationRow.total, EvaluationRow.state).order_by(
                EvaluationRow.id
            )
        ).all()
    return [tuple(r) for r in calls] + [tuple(r) for r in totals]


def test_history_fills_eight_weeks_and_every_report_kind(platform):
    ensure_demo_people(platform, AGENTS)
    made = generate_history(platform, seed=7, supervisor=SUPERVISOR)
    print(made.to_dict())
    assert made.calls > 2000 and made.evaluations > 150 and made.appeals > 5
    assert made.red_lines >= 1 and made.flags > 300
    assert made.last_day - made.first_day == timedelta(days=8 * 7 - 1)
    assert made.snapshots["daily"] == 56 and made.snapshots["weekly"] >= 8
    assert made.snapshots["monthly"] >= 2
    with platform.uow() as uow:
        s = uow.session
        assert s.scalar(select(func.count(Call.id)).where(Call.audio_format != "generated")) == 0
        assert s.scalar(select(func.count(CallFlag.id))) == made.flags
        inspectors = s.scalars(select(EvaluationRow.inspector_id).distinct()).all()
        assert len(inspectors) >= 2
        revised = s.scalar(
            select(func.count(EvaluationVersionRow.id)).where(EvaluationVersionRow.number == 2)
        )
        decided = s.scalar(select(func.count(AppealRow.id)).where(AppealRow.decision == "revised"))
        assert revised == decided and decided > 0
        kinds = set(s.scalars(select(ReportSnapshot.kind)).all())
    assert kinds == {"daily", "weekly", "monthly"}
    week = reports.compute_report(platform.uow(), "weekly", made.last_day - timedelta(days=7))
    centre = week["payload"]["centre"]
    assert centre["calls_received"] > 200 and centre["sample_size"] > 5
    assert centre["mean_score"] is not None and centre["appeals"] >= 0


def test_same_seed_same_history_and_a_second_run_keeps_it(platform, settings):
    ensure_demo_people(platform, AGENTS)
    generate_history(platform, seed=11, supervisor=SUPERVISOR)
    first = _fingerprint(platform)
    again = generate_history(platform, seed=11, supervisor=SUPERVISOR)
    assert again.skipped and _fingerprint(platform) == first
    from tests.conftest import clean_database

    clean_database(settings.database_url)
    from storage.keyring import Keyring

    Keyring.load_or_create(settings.keyring)
    ensure_demo_people(platform, AGENTS)
    generate_history(platform, seed=11, supervisor=SUPERVISOR)
    assert _fingerprint(platform) == first


def test_history_needs_the_demo_people_and_a_sane_seed(platform):
    with pytest.raises(HistoryError, match="create the demo people first"):
        generate_history(platform, seed=1, supervisor=SUPERVISOR)
    with pytest.raises(HistoryError, match="seed"):
        generate_history(platform, seed=-1, supervisor=SUPERVISOR)
