"""Claiming and releasing pipeline job rows: the database is the source of truth.

A Celery message may be delivered more than once (worker lost, visibility timeout, the
reconciler) and a job may kill its worker every time. So a task first *claims* its row with
one conditional UPDATE that also counts the attempt; only the winner computes. Over
``max_attempts`` the row goes to ``dead_letter`` with the reason, and the call is failed.

A row that is ``running`` may be taken over when its deadline has passed (its holder is
gone: the hard time limit is shorter than the deadline) or when the same Celery message is
delivered again (a redelivered message means the previous holder of that message died).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.calls import CallStatus
from qa_platform.domain.pipeline import CLAIMABLE, JobStatus
from storage.audit import append_audit
from storage.db import rowcount
from storage.models import Call, Job

ERROR_MAX = 2000


class ClaimOutcome(StrEnum):
    WON = "won"
    BUSY = "busy"  # another live worker holds it
    DONE = "done"
    FAILED = "failed"
    DEAD_LETTER = "dead_letter"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class JobKey:
    call_id: int
    stage: str
    pipeline_version: str

    def where(self) -> ColumnElement[bool]:
        return and_(
            Job.call_id == self.call_id,
            Job.stage == self.stage,
            Job.pipeline_version == self.pipeline_version,
        )


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: ClaimOutcome
    attempts: int = 0
    reason: str | None = None

    @property
    def won(self) -> bool:
        return self.outcome is ClaimOutcome.WON


def utcnow() -> datetime:
    """The platform clock's now (kept as a name the worker modules share)."""
    return utc_now()


def worker_token(delivery_id: str, host: str) -> str:
    """``claimed_by`` value: the Celery message id first, so a redelivery is recognised."""
    return f"{delivery_id}@{host}"


def _claimable(now: datetime, delivery_id: str | None) -> ColumnElement[bool]:
    expired = Job.deadline_at < now
    if delivery_id:
        expired = or_(expired, Job.claimed_by.startswith(f"{delivery_id}@", autoescape=True))
    return or_(Job.status.in_(CLAIMABLE), and_(Job.status == JobStatus.RUNNING, expired))


def claim(
    session: Session,
    key: JobKey,
    worker_id: str,
    deadline: datetime,
    *,
    max_attempts: int,
    delivery_id: str | None = None,
    now: datetime | None = None,
) -> Claim:
    """Try to take the job: one conditional UPDATE (claimable → running, attempts + 1).

    The caller commits. Returns ``WON`` only for the worker that changed the row.
    """
    now = now or utcnow()
    claimable = _claimable(now, delivery_id)
    won = rowcount(
        session.execute(
            update(Job)
            .where(key.where(), claimable, Job.attempts < max_attempts)
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                claimed_by=worker_id[:128],
                claimed_at=now,
                deadline_at=deadline,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if won == 1:
        _mark_processing(session, key.call_id, now)
        return Claim(ClaimOutcome.WON, _attempts(session, key))
    return _not_won(session, key, claimable, max_attempts, now)


def _attempts(session: Session, key: JobKey) -> int:
    return int(session.scalar(select(Job.attempts).where(key.where())) or 0)


def _not_won(
    session: Session, key: JobKey, claimable: ColumnElement[bool], max_attempts: int, now: datetime
) -> Claim:
    job = session.execute(select(Job.status, Job.attempts, Job.error).where(key.where())).first()
    if job is None:
        return Claim(ClaimOutcome.MISSING, reason=f"no job row for {key}")
    reason = f"stage {key.stage} gave up after {job.attempts} attempts (max {max_attempts})"
    if job.error:
        reason += f"; last error: {job.error}"
    dead = rowcount(
        session.execute(
            update(Job)
            .where(key.where(), claimable, Job.attempts >= max_attempts)
            .values(status=JobStatus.DEAD_LETTER, error=reason, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if dead == 1:
        _fail_call(session, key, reason, now, action="job.dead_letter")
        return Claim(ClaimOutcome.DEAD_LETTER, job.attempts, reason)
    outcome = {
        JobStatus.DONE: ClaimOutcome.DONE,
        JobStatus.FAILED: ClaimOutcome.FAILED,
        JobStatus.DEAD_LETTER: ClaimOutcome.DEAD_LETTER,
    }.get(JobStatus(job.status), ClaimOutcome.BUSY)
    return Claim(outcome, job.attempts, job.error)


def _mark_processing(session: Session, call_id: int, now: datetime) -> None:
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status.in_([CallStatus.INGESTED, CallStatus.QUEUED]))
        .values(status=CallStatus.PROCESSING, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def complete(session: Session, key: JobKey, now: datetime | None = None) -> None:
    """The stage's result is written (in this same transaction): the job is done."""
    now = now or utcnow()
    session.execute(
        update(Job)
        .where(key.where())
        .values(status=JobStatus.DONE, error=None, deadline_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def fail_transient(session: Session, key: JobKey, error: str, now: datetime | None = None) -> None:
    """A retryable failure: the row may be claimed again (retry, reconciler)."""
    now = now or utcnow()
    session.execute(
        update(Job)
        .where(key.where(), Job.status == JobStatus.RUNNING)
        .values(
            status=JobStatus.FAILED_TRANSIENT,
            error=error[:ERROR_MAX],
            deadline_at=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def fail_permanent(session: Session, key: JobKey, error: str, now: datetime | None = None) -> None:
    """Bad input: the job is failed for good and the call is ``failed`` with the reason."""
    now = now or utcnow()
    session.execute(
        update(Job)
        .where(key.where())
        .values(status=JobStatus.FAILED, error=error[:ERROR_MAX], deadline_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    _fail_call(session, key, error, now, action="call.failed")


def _fail_call(session: Session, key: JobKey, error: str, now: datetime, action: str) -> None:
    changed = rowcount(
        session.execute(
            update(Call)
            .where(Call.id == key.call_id, Call.status != CallStatus.PURGED)
            .values(status=CallStatus.FAILED, error=error[:ERROR_MAX], updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if changed:
        append_audit(
            session,
            actor="pipeline",
            action=action,
            object_type="call",
            object_id=key.call_id,
            details={
                "stage": key.stage,
                "pipeline_version": key.pipeline_version,
                "error": error[:500],
            },
        )
