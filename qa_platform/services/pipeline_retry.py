"""Retry a call's failed pipeline work (重新处理): reset its failed or dead-lettered jobs and
re-enqueue it through the pipeline's one enqueue path.

A dead letter (``dead_letter``: too many attempts) or a permanent failure (``failed``: bad
input) needs a person; once that person has fixed the cause (a model installed, a decoder
upgraded) they retry the call. The reset jobs start again with zero attempts, the call goes
back to ``queued`` with its error cleared, and the reset is audited (``job.retry``) in the same
transaction. Messages are sent after the commit by ``enqueue_calls``, like every other path.
The CLI and the pipeline page call :func:`retry_call`; scope checks belong to the caller.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallNotFound, CallStatus
from qa_platform.domain.errors import Conflict, Invalid
from qa_platform.domain.pipeline import STAGE_NAMES, JobStatus
from qa_platform.services.context import Platform
from qa_platform.services.pipeline import enqueue_calls, pipeline_version
from storage.audit import append_audit
from storage.db import rowcount
from storage.models import Call, Job

log = logging.getLogger(__name__)

RETRYABLE = (JobStatus.DEAD_LETTER, JobStatus.FAILED, JobStatus.FAILED_TRANSIENT)


class UnknownStage(Invalid):
    """The stage named is not a pipeline stage."""


class NothingToRetry(Conflict):
    """The call (or the stage named) has no failed or dead-lettered job."""


@dataclass(frozen=True)
class RetryResult:
    """What ``qa retry --json`` prints: the call, the stages reset, whether work was sent."""

    call_id: int
    stages: list[str]
    previous: dict[str, str]  # stage → the status it had (dead_letter, failed, …)
    status: str  # the call's status after the reset
    sent: bool  # a message went out (or, eager, the work ran in this process)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_stage(name: str | None) -> str | None:
    """``None`` (every failed stage) or a known stage name; else a 400 naming the stages."""
    if name is None or not name.strip():
        return None
    if name.strip() not in STAGE_NAMES:
        raise UnknownStage(
            f"unknown pipeline stage {name.strip()[:40]!r}; stages: {', '.join(STAGE_NAMES)}"
        )
    return name.strip()


def retry_call(
    platform: Platform,
    call_id: int,
    *,
    actor: str,
    stage: str | None = None,
    run_in_process: bool = False,
) -> RetryResult:
    """Reset the call's failed jobs (or only ``stage``), audit, commit, then re-enqueue.

    Eager mode (no broker) runs the work in this process only when ``run_in_process`` (the
    CLI); a web request never runs speech work, the call waits for ``qa process`` instead.
    """
    stage = check_stage(stage)
    version = pipeline_version(platform.settings)
    now = platform.clock.now()
    with platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        if call is None:
            raise CallNotFound(f"no call with id {call_id}")
        if call.status == CallStatus.PURGED:
            raise NothingToRetry(f"call {call_id} is purged; its recording is gone")
        jobs = _failed_jobs(uow.session, call_id, version, stage)
        if not jobs:
            what = f"stage {stage!r} of call {call_id}" if stage else f"call {call_id}"
            raise NothingToRetry(f"{what} has no failed or dead-lettered job to retry")
        previous = {j.stage: str(j.status) for j in jobs}
        errors = {j.stage: (j.error or "")[:500] for j in jobs}
        if _reset(uow.session, [j.id for j in jobs], now) != len(jobs):
            raise NothingToRetry(f"call {call_id} was retried by someone else just now")
        uow.session.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(status=CallStatus.QUEUED, error=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        append_audit(
            uow.session,
            actor=actor,
            action="job.retry",
            object_type="call",
            object_id=call_id,
            details={"pipeline_version": version, "previous": previous, "errors": errors},
            at=now,
        )
        uow.commit()
    sent = _send(platform, call_id, run_in_process)
    stages = [s for s in STAGE_NAMES if s in previous]
    return RetryResult(call_id, stages, previous, _status(platform, call_id), sent)


def _failed_jobs(session: Session, call_id: int, version: str, stage: str | None) -> list[Job]:
    query = select(Job).where(
        Job.call_id == call_id,
        Job.pipeline_version == version,
        Job.status.in_([str(s) for s in RETRYABLE]),
    )
    if stage is not None:
        query = query.where(Job.stage == stage)
    return list(session.scalars(query.order_by(Job.id)))


def _reset(session: Session, job_ids: list[int], now: object) -> int:
    """Conditional: only rows still failed change, so two people retrying at once cannot both
    reset (the loser's transaction is rolled back by the unit of work)."""
    return rowcount(
        session.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.status.in_([str(s) for s in RETRYABLE]))
            .values(
                status=JobStatus.QUEUED,
                attempts=0,
                error=None,
                claimed_by=None,
                claimed_at=None,
                deadline_at=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )


def _send(platform: Platform, call_id: int, run_in_process: bool) -> bool:
    """Re-enqueue after commit; a broker that is down leaves the reset call for the reconciler."""
    if platform.dispatch is None or (platform.settings.eager and not run_in_process):
        return False
    try:
        return bool(enqueue_calls(platform, [call_id]))
    except Exception:  # the broker's errors vary by transport; the reset is kept
        log.exception("call %s reset for retry; sending failed, the reconciler will", call_id)
        return False


def _status(platform: Platform, call_id: int) -> str:
    with platform.uow() as uow:
        return str(uow.session.scalar(select(Call.status).where(Call.id == call_id)))
