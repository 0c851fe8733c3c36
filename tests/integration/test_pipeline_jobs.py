"""Claiming job rows: one winner, attempts counted, dead letter over the limit, takeover rules.

Real database (SQLite, or PostgreSQL with QA_TEST_DATABASE=postgres) and real recordings.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_platform.domain.pipeline import PIPELINE_VERSION, Stage
from qa_platform.services import pipeline as ps
from qa_platform.services.context import Platform
from storage.models import Call, Job
from tests.helpers.pipeline import demo_stereo_wav, ingest
from workers import jobs

V = PIPELINE_VERSION


@pytest.fixture
def call_id(platform: Platform, tmp_path: Path) -> int:
    cid = ingest(platform, demo_stereo_wav(tmp_path, seconds=3))
    with platform.uow() as uow:
        ps.ensure_jobs(uow.session, cid, V, jobs.utcnow())
        uow.commit()
    return cid


def _claim(platform: Platform, key: jobs.JobKey, delivery: str, *, now=None, max_attempts=3):  # type: ignore[no-untyped-def]
    now = now or jobs.utcnow()
    with platform.uow() as uow:
        result = jobs.claim(
            uow.session,
            key,
            jobs.worker_token(delivery, "host:1"),
            now + timedelta(seconds=60),
            max_attempts=max_attempts,
            delivery_id=delivery,
            now=now,
        )
        uow.commit()
    return result


def _job(platform: Platform, key: jobs.JobKey) -> Job:
    with platform.uow() as uow:
        return uow.session.scalars(select(Job).where(key.where())).one()


def test_only_one_of_two_deliveries_wins_and_the_attempt_is_counted(
    platform: Platform, call_id: int
) -> None:
    key = jobs.JobKey(call_id, "features", V)
    first = _claim(platform, key, "msg-a")
    second = _claim(platform, key, "msg-b")
    assert first.won and first.attempts == 1
    assert second.outcome is jobs.ClaimOutcome.BUSY
    assert _job(platform, key).status == "running"
    with platform.uow() as uow:
        assert uow.session.scalar(select(Call.status).where(Call.id == call_id)) == "processing"


def test_a_redelivered_message_takes_over_its_own_running_row(
    platform: Platform, call_id: int
) -> None:
    key = jobs.JobKey(call_id, "transcribe", V)
    assert _claim(platform, key, "msg-a").won
    again = _claim(platform, key, "msg-a")  # same message again: its previous holder died
    assert again.won and again.attempts == 2


def test_a_running_row_past_its_deadline_can_be_claimed_by_another_message(
    platform: Platform, call_id: int
) -> None:
    key = jobs.JobKey(call_id, "features", V)
    assert _claim(platform, key, "msg-a").won
    later = jobs.utcnow() + timedelta(seconds=120)
    assert _claim(platform, key, "msg-b", now=later).won


def test_over_max_attempts_the_job_is_dead_lettered_and_the_call_failed(
    platform: Platform, call_id: int
) -> None:
    key = jobs.JobKey(call_id, "transcribe", V)
    outcomes = [_claim(platform, key, "msg-a", max_attempts=3).outcome for _ in range(4)]
    assert outcomes[:3] == [jobs.ClaimOutcome.WON] * 3
    assert outcomes[3] is jobs.ClaimOutcome.DEAD_LETTER
    job = _job(platform, key)
    assert (job.status, job.attempts) == ("dead_letter", 3)
    with platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        assert call is not None and call.status == "failed"
        assert "gave up after 3 attempts" in (call.error or "")
    assert ps.progress(platform).dead_letters[0]["stage"] == "transcribe"


def test_a_done_job_is_not_claimed_again(platform: Platform, call_id: int) -> None:
    key = jobs.JobKey(call_id, "features", V)
    assert _claim(platform, key, "msg-a").won
    with platform.uow() as uow:
        jobs.complete(uow.session, key)
        uow.commit()
    assert _claim(platform, key, "msg-a").outcome is jobs.ClaimOutcome.DONE
    assert _job(platform, key).attempts == 1


def test_a_transient_failure_leaves_the_job_claimable_with_its_error(
    platform: Platform, call_id: int
) -> None:
    key = jobs.JobKey(call_id, "features", V)
    assert _claim(platform, key, "msg-a").won
    with platform.uow() as uow:
        jobs.fail_transient(uow.session, key, "OperationalError: database restarting")
        uow.commit()
    assert _job(platform, key).status == "failed_transient"
    retry = _claim(platform, key, "msg-a")
    assert retry.won and retry.attempts == 2
    assert _job(platform, key).error == "OperationalError: database restarting"


def test_reconcile_resends_a_job_left_failed_transient_exactly_once(
    platform: Platform, call_id: int
) -> None:
    key = jobs.JobKey(call_id, "features", V)
    assert _claim(platform, key, "msg-a").won
    with platform.uow() as uow:  # the retry message was lost with its worker
        jobs.fail_transient(uow.session, key, "OperationalError: database restarting")
        uow.commit()
    sent: list[tuple[str, int, str]] = []

    def dispatch(stage: Stage, cid: int, version: str) -> None:
        sent.append((stage.name, cid, version))

    report = ps.reconcile(platform, dispatch=dispatch)
    assert report.resent == [{"call_id": call_id, "stage": "features", "was": "failed_transient"}]
    assert sent == [("features", call_id, V)]
    job = _job(platform, key)
    assert job.status == "queued" and job.deadline_at is not None
    assert ps.reconcile(platform, dispatch=dispatch).resent == []  # not overdue yet
    assert len(sent) == 1
