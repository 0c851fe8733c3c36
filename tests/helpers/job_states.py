"""Put a call's pipeline jobs into a failed state through the job service the workers use
(claim → complete / fail), as a worker that kept failing would have left them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qa_platform.domain.pipeline import STAGE_NAMES
from qa_platform.services.context import Platform
from qa_platform.services.pipeline import ensure_jobs, pipeline_version
from workers import jobs


def _key(platform: Platform, call_id: int, stage: str) -> jobs.JobKey:
    return jobs.JobKey(call_id, stage, pipeline_version(platform.settings))


def _finish_before(platform: Platform, call_id: int, stage: str) -> None:
    deadline = datetime.now(UTC) + timedelta(hours=1)
    with platform.uow() as uow:
        ensure_jobs(uow.session, call_id, pipeline_version(platform.settings), datetime.now(UTC))
        for name in STAGE_NAMES[: STAGE_NAMES.index(stage)]:
            key = _key(platform, call_id, name)
            assert jobs.claim(uow.session, key, "w@test", deadline, max_attempts=3).won
            jobs.complete(uow.session, key)
        uow.commit()


def dead_letter(platform: Platform, call_id: int, stage: str, error: str) -> None:
    """The earlier stages done; ``stage`` failed transiently, then gave up (dead letter)."""
    _finish_before(platform, call_id, stage)
    deadline = datetime.now(UTC) + timedelta(hours=1)
    key = _key(platform, call_id, stage)
    with platform.uow() as uow:
        assert jobs.claim(uow.session, key, "w@test", deadline, max_attempts=1).won
        jobs.fail_transient(uow.session, key, error)
        outcome = jobs.claim(uow.session, key, "w@test", deadline, max_attempts=1).outcome
        assert outcome is jobs.ClaimOutcome.DEAD_LETTER
        uow.commit()


def fail_permanently(platform: Platform, call_id: int, stage: str, error: str) -> None:
    """The earlier stages done; ``stage`` failed for good (bad input)."""
    _finish_before(platform, call_id, stage)
    deadline = datetime.now(UTC) + timedelta(hours=1)
    key = _key(platform, call_id, stage)
    with platform.uow() as uow:
        assert jobs.claim(uow.session, key, "w@test", deadline, max_attempts=3).won
        jobs.fail_permanent(uow.session, key, error)
        uow.commit()
