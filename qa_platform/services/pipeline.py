"""Speech-pipeline use cases: enqueue work, follow progress, reconcile, persist results.

The ``jobs`` table is the source of truth. ``enqueue_pending`` writes job rows, commits, and
only THEN sends messages (a message never names a row that is not committed). A stage's
result is upserted under a unique key in the same transaction as its job's state change, so
running a stage twice leaves one result. The periodic ``reconcile`` re-sends work whose
message was lost (broker restart, hard time limit, a crash between commit and send).

Messages are sent through a ``Dispatch`` callable so that this package never imports Celery:
each entry point puts the one it uses on its ``Platform`` (the composition root).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.calls import CallStatus
from qa_platform.domain.chat import CHANNEL_CHAT
from qa_platform.domain.pipeline import (
    AUDIO_STAGES,
    PIPELINE_VERSION,
    STAGE_NAMES,
    STAGES,
    Dispatch,
    JobStatus,
    Stage,
    next_stage,
    previous_stage,
    stage,
)
from qa_platform.domain.transcript import AudioFeatures, Transcript
from qa_platform.services.context import Platform
from qa_platform.settings import Settings
from storage.db import rowcount
from storage.models import Call, Job
from storage.models_pipeline import CallFeatures, CallSpeaker, TranscriptSegment
from storage.models_pipeline import Transcript as TranscriptRow
from storage.rollups import refresh_calls

log = logging.getLogger(__name__)


WORKABLE_CALLS = (CallStatus.INGESTED, CallStatus.QUEUED, CallStatus.PROCESSING)


def pipeline_version(settings: Settings) -> str:
    return settings.pipeline_version or PIPELINE_VERSION


def _message_deadline(settings: Settings, now: datetime) -> datetime:
    """When an unclaimed message counts as lost (the broker would have redelivered it)."""
    return now + timedelta(seconds=settings.broker_visibility_timeout_s)


# --------------------------------------------------------------------------- enqueue
def enqueue_pending(platform: Platform, dispatch: Dispatch | None = None) -> list[int]:
    """Queue every call that needs work; returns their ids. Messages go out after commit."""
    return _enqueue(platform, None, dispatch)


def enqueue_calls(
    platform: Platform, call_ids: Sequence[int], dispatch: Dispatch | None = None
) -> list[int]:
    """Queue just these calls (an upload that was just committed), the same way
    ``enqueue_pending`` does: job rows first, committed, then the first stage is sent."""
    return _enqueue(platform, call_ids, dispatch) if call_ids else []


def _enqueue(
    platform: Platform, only: Sequence[int] | None, dispatch: Dispatch | None
) -> list[int]:
    version = pipeline_version(platform.settings)
    now = platform.clock.now()
    with platform.uow() as uow:
        call_ids = _calls_needing_work(uow.session, version, only)
        to_send = [
            s
            for cid in call_ids
            if (s := _prepare_call(uow.session, cid, version, platform.settings, now))
        ]
        uow.commit()
    _send(platform, to_send, version, dispatch)
    return call_ids


def _calls_needing_work(
    session: Session, version: str, only: Sequence[int] | None = None
) -> list[int]:
    fresh = select(Call.id).where(Call.status.in_([CallStatus.INGESTED, CallStatus.QUEUED]))
    retryable = (
        select(Job.call_id)
        .join(Call, Call.id == Job.call_id)
        .where(
            Job.pipeline_version == version,
            Job.status == JobStatus.FAILED_TRANSIENT,
            Call.status.in_(WORKABLE_CALLS),
        )
    )
    if only is not None:
        fresh = fresh.where(Call.id.in_(list(only)))
        retryable = retryable.where(Job.call_id.in_(list(only)))
    ids = set(session.scalars(fresh)) | set(session.scalars(retryable))
    return sorted(ids)


def _prepare_call(
    session: Session, call_id: int, version: str, settings: Settings, now: datetime
) -> tuple[Stage, int] | None:
    jobs = ensure_jobs(session, call_id, version, now)
    session.execute(
        update(Call)
        .where(Call.id == call_id, Call.status == CallStatus.INGESTED)
        .values(status=CallStatus.QUEUED, updated_at=now)
    )
    current = _first_unfinished(jobs)
    if current is None:
        return None
    if mark_dispatched(
        session, call_id, current.name, version, _message_deadline(settings, now), now
    ):
        return current, call_id
    return None


def ensure_jobs(session: Session, call_id: int, version: str, now: datetime) -> dict[str, Job]:
    """One job row per stage for this call and pipeline version (missing ones are added);
    a chat has no audio, so its audio stages are added as done (its work starts at flags)."""
    rows = {
        j.stage: j
        for j in session.scalars(
            select(Job).where(Job.call_id == call_id, Job.pipeline_version == version)
        )
    }
    missing = [name for name in STAGE_NAMES if name not in rows]
    chat = bool(missing) and (
        session.scalar(select(Call.channel).where(Call.id == call_id)) == CHANNEL_CHAT
    )
    for name in missing:
        rows[name] = Job(
            call_id=call_id,
            stage=name,
            pipeline_version=version,
            status=JobStatus.DONE if chat and name in AUDIO_STAGES else JobStatus.QUEUED,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        session.add(rows[name])
    session.flush()
    return rows


def _first_unfinished(jobs: dict[str, Job]) -> Stage | None:
    for s in STAGES:
        if jobs[s.name].status != JobStatus.DONE:
            return s
    return None


def mark_dispatched(
    session: Session, call_id: int, stage_name: str, version: str, deadline: datetime, now: datetime
) -> bool:
    """Conditionally mark a waiting job as sent; only the caller that wins sends the message."""
    waiting = or_(
        and_(Job.status == JobStatus.QUEUED, Job.deadline_at.is_(None)),
        Job.status == JobStatus.FAILED_TRANSIENT,
    )
    changed = rowcount(
        session.execute(
            update(Job)
            .where(
                Job.call_id == call_id,
                Job.stage == stage_name,
                Job.pipeline_version == version,
                waiting,
            )
            .values(status=JobStatus.QUEUED, deadline_at=deadline, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    return changed == 1


def _send(
    platform: Platform, items: Sequence[tuple[Stage, int]], version: str, dispatch: Dispatch | None
) -> None:
    if not items:
        return
    send = dispatch or platform.dispatcher()
    for s, call_id in items:
        send(s, call_id, version)


def advance(
    platform: Platform, call_id: int, finished: str, version: str, dispatch: Dispatch
) -> bool:
    """After ``finished`` is committed as done, send the next stage (at most once)."""
    nxt = next_stage(finished)
    if nxt is None:
        return False
    now = platform.clock.now()
    with platform.uow() as uow:
        ensure_jobs(uow.session, call_id, version, now)
        sent = mark_dispatched(
            uow.session, call_id, nxt.name, version, _message_deadline(platform.settings, now), now
        )
        uow.commit()
    if sent:
        dispatch(nxt, call_id, version)
    return sent


# --------------------------------------------------------------------------- progress
@dataclass
class Progress:
    calls: dict[str, int]  # call status → count
    jobs: dict[str, dict[str, int]]  # stage → job status → count
    pending: int  # calls not yet analysed, failed or purged
    dead_letters: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "jobs": self.jobs,
            "pending": self.pending,
            "dead_letters": self.dead_letters,
        }


def progress(platform: Platform) -> Progress:
    """Counts of calls by status and of jobs by stage and status (current pipeline version)."""
    version = pipeline_version(platform.settings)
    with platform.uow() as uow:
        calls = dict(
            uow.session.execute(select(Call.status, func.count()).group_by(Call.status)).all()
        )
        jobs: dict[str, dict[str, int]] = {name: {} for name in STAGE_NAMES}
        rows = uow.session.execute(
            select(Job.stage, Job.status, func.count())
            .where(Job.pipeline_version == version)
            .group_by(Job.stage, Job.status)
        ).all()
        for stage_name, status, count in rows:
            jobs.setdefault(stage_name, {})[status] = count
        dead = _dead_letters(uow.session, version)
    pending = sum(calls.get(s, 0) for s in WORKABLE_CALLS)
    return Progress({k: int(v) for k, v in calls.items()}, jobs, pending, dead)


def _dead_letters(session: Session, version: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Job).where(Job.status == JobStatus.DEAD_LETTER, Job.pipeline_version == version)
    )
    return [
        {"call_id": j.call_id, "stage": j.stage, "attempts": j.attempts, "error": j.error}
        for j in rows
    ]


SETTLED_CALLS = (CallStatus.ANALYSED, CallStatus.FAILED, CallStatus.PURGED)


def call_states(platform: Platform, call_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Status and error of each call in ``call_ids`` (for ``qa process``)."""
    if not call_ids:
        return []
    with platform.uow() as uow:
        rows = uow.session.execute(
            select(Call.id, Call.status, Call.error)
            .where(Call.id.in_(list(call_ids)))
            .order_by(Call.id)
        ).all()
    return [{"id": r.id, "status": r.status, "error": r.error} for r in rows]


def settled_count(platform: Platform, call_ids: Sequence[int]) -> int:
    """How many of ``call_ids`` are analysed, failed or purged."""
    with platform.uow() as uow:
        return int(
            uow.session.scalar(
                select(func.count())
                .select_from(Call)
                .where(Call.id.in_(list(call_ids)), Call.status.in_(SETTLED_CALLS))
            )
            or 0
        )


# --------------------------------------------------------------------------- reconcile
@dataclass
class Reconciled:
    resent: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"resent": self.resent, "dead_letters": self.dead_letters}


def reconcile(
    platform: Platform, now: datetime | None = None, dispatch: Dispatch | None = None
) -> Reconciled:
    """Re-send jobs whose message was lost or whose worker died; report dead letters.

    Covers: ``queued``/``running`` past their deadline (broker lost the message, hard time
    limit, dead worker), ``failed_transient`` left behind, and a stage that is waiting
    although the stage before it is done (crash between commit and send).
    """
    now = now or platform.clock.now()
    version = pipeline_version(platform.settings)
    deadline = _message_deadline(platform.settings, now)
    with platform.uow() as uow:
        stuck = _stuck_jobs(uow.session, version, now)
        resend = [(stage(j.stage), j.call_id, j.status) for j in stuck]
        for s, call_id, _ in resend:
            _requeue(uow.session, call_id, s.name, version, deadline, now)
        dead = _dead_letters(uow.session, version)
        uow.commit()
    _send(platform, [(s, cid) for s, cid, _ in resend], version, dispatch)
    for letter in dead:
        log.error("dead-lettered job: call %(call_id)s stage %(stage)s: %(error)s", letter)
    resent = [{"call_id": cid, "stage": s.name, "was": str(was)} for s, cid, was in resend]
    return Reconciled(resent, dead)


def _stuck_jobs(session: Session, version: str, now: datetime) -> list[Job]:
    active_call = Call.status.in_(WORKABLE_CALLS)
    overdue = and_(
        Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        Job.deadline_at.is_not(None),
        Job.deadline_at < now,
    )
    candidates = session.scalars(
        select(Job)
        .join(Call, Call.id == Job.call_id)
        .where(Job.pipeline_version == version, active_call)
        .where(
            or_(
                overdue,
                Job.status == JobStatus.FAILED_TRANSIENT,
                and_(Job.status == JobStatus.QUEUED, Job.deadline_at.is_(None)),
            )
        )
        .order_by(Job.call_id, Job.id)
    ).all()
    return [j for j in candidates if j.deadline_at is not None or _ready(session, j)]


def _ready(session: Session, job: Job) -> bool:
    """A waiting job may run once the stage before it is done (or it is the first)."""
    before = previous_stage(job.stage)
    if job.status == JobStatus.FAILED_TRANSIENT:
        return True
    if before is None:
        return True
    status = session.scalar(
        select(Job.status).where(
            Job.call_id == job.call_id,
            Job.stage == before.name,
            Job.pipeline_version == job.pipeline_version,
        )
    )
    return status == JobStatus.DONE


def _requeue(
    session: Session, call_id: int, stage_name: str, version: str, deadline: datetime, now: datetime
) -> None:
    # A running row past its deadline has lost its holder (hard time limit < deadline):
    # back to queued so the next delivery claims it and counts the attempt.
    session.execute(
        update(Job)
        .where(Job.call_id == call_id, Job.stage == stage_name, Job.pipeline_version == version)
        .values(status=JobStatus.QUEUED, deadline_at=deadline, updated_at=now)
        .execution_options(synchronize_session=False)
    )


# --------------------------------------------------------------------------- persistence
def _upsert(session: Session, model: Any, values: dict[str, Any], keys: Sequence[str]) -> int:
    """INSERT … ON CONFLICT (keys) DO UPDATE, returning the row id (PostgreSQL and SQLite)."""
    table = model.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values)
    changes = {c: stmt.excluded[c] for c in values if c not in keys and c != "created_at"}
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=changes)
    return int(session.execute(stmt.returning(table.c.id)).scalar_one())


def save_features(session: Session, call_id: int, version: str, features: AudioFeatures) -> int:
    """Upsert the call's audio features under (call, pipeline version)."""
    now = utc_now()
    values = {
        "call_id": call_id,
        "version": version,
        "features": features.to_dict(),
        "created_at": now,
        "updated_at": now,
    }
    return _upsert(session, CallFeatures, values, ("call_id", "version"))


def save_transcript(
    session: Session,
    call_id: int,
    *,
    transcript: Transcript,
    model: str,
    model_version: str,
    version: str,
    speakers: Iterable[dict[str, Any]] = (),
) -> int:
    """Upsert the transcript under (call, model version); its segments and speakers replace
    any earlier ones. Text and words must already be masked."""
    now = utc_now()
    values = {
        "call_id": call_id,
        "model": model,
        "model_version": model_version,
        "pipeline_version": version,
        "language": transcript.language or "",
        "created_at": now,
        "updated_at": now,
    }
    transcript_id = _upsert(session, TranscriptRow, values, ("call_id", "model_version"))
    session.execute(
        delete(TranscriptSegment).where(TranscriptSegment.transcript_id == transcript_id)
    )
    session.add_all(_segment_rows(call_id, transcript_id, transcript))
    _replace_speakers(session, call_id, speakers)
    session.flush()
    return transcript_id


def _segment_rows(
    call_id: int, transcript_id: int, transcript: Transcript
) -> list[TranscriptSegment]:
    rows = []
    for idx, seg in enumerate(transcript.segments):
        words = [
            {"text": w.text, "start": w.start, "end": w.end, "confidence": w.confidence}
            for w in seg.words
        ]
        rows.append(
            TranscriptSegment(
                transcript_id=transcript_id,
                call_id=call_id,
                idx=idx,
                speaker=seg.speaker,
                role=str(seg.role),
                start=float(seg.start),
                end=float(seg.end),
                text=seg.text,
                words=words,
                confidence=float(seg.confidence),
                unreliable=seg.unreliable,
            )
        )
    return rows


def _replace_speakers(session: Session, call_id: int, speakers: Iterable[dict[str, Any]]) -> None:
    session.execute(delete(CallSpeaker).where(CallSpeaker.call_id == call_id))
    session.flush()
    for sp in speakers:
        session.add(
            CallSpeaker(
                call_id=call_id,
                speaker=str(sp["speaker"]),
                role=str(sp.get("role", "unknown")),
                role_confidence=float(sp.get("confidence", sp.get("role_confidence", 0.0))),
                channel=sp.get("channel"),
                evidence=list(sp.get("evidence", [])),
            )
        )


def mark_analysed(session: Session, call_id: int) -> bool:
    """The last stage: the call becomes ``analysed`` (unless it failed or was purged)."""
    changed = rowcount(
        session.execute(
            update(Call)
            .where(Call.id == call_id, Call.status.in_(WORKABLE_CALLS))
            .values(status=CallStatus.ANALYSED, error=None, updated_at=utc_now())
            .execution_options(synchronize_session=False)
        )
    )
    if changed == 1:
        refresh_calls(session, [call_id])  # daily report roll-ups, same transaction
    return changed == 1
