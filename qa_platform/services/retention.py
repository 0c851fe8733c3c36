"""Retention (保存期限): complaint linkage, legal hold, and deletion at expiry.

Expiry (seed 002 §7.3, PIPL: nothing kept past its date) crypto-shreds the recording and erases
everything derived from the call in the same transaction: transcript text and words, speakers,
features, flags and their evidence, the text of inspectors' comments (which quote the call), the
free text of the call's pipeline jobs, and the call's own personal fields. What remains is the
tombstone (ids, agent, times, scores) and the audit chain.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallNotFound, CallStatus
from qa_platform.retention import format_classes, parse_classes
from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.models import Call, CallFlag, Job, Recording
from storage.models_autoqa import AutoEvaluationRow, SuggestionDecisionRow
from storage.models_coaching import CoachingTaskRow
from storage.models_complaints import ComplaintCallRow, ComplaintCaseRow
from storage.models_emotion import SegmentEmotion
from storage.models_pipeline import (
    CallFeatures,
    CallSpeaker,
    CallWaveform,
    Transcript,
    TranscriptSegment,
)
from storage.models_scoring import EvaluationCommentRow, EvaluationRow, EvaluationVersionRow
from storage.models_surveys import SurveyResponseRow
from storage.rollups import refresh_calls

#: What an erased comment reads afterwards (the row stays: it carries the moment and the item).
ERASED_TEXT = "〔已按保存期限删除〕"


@dataclass(frozen=True)
class PurgeItem:
    """One expired call: whether it was shredded and how many rows of its content went."""

    call_id: int
    retain_until: str
    purged: bool
    erased: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def expired_calls(platform: Platform, now: datetime) -> list[Call]:
    """Calls past their retention date, not held, not yet purged."""
    with platform.uow() as uow:
        return list(
            uow.session.scalars(
                select(Call)
                .where(
                    Call.retain_until < now, Call.legal_hold.is_(False), Call.purged_at.is_(None)
                )
                .order_by(Call.id)
            )
        )


def purge(
    platform: Platform, now: datetime | None = None, dry_run: bool = False, actor: str = "retention"
) -> list[PurgeItem]:
    """Crypto-shred every expired, unheld recording: key destroyed, row tombstoned, blob gone.

    Each call is its own transaction; the legal-hold check is repeated under a row lock, so
    a hold placed while the purge runs still wins.
    """
    now = now or platform.clock.now()
    items = []
    for call in expired_calls(platform, now):
        until = call.retain_until.isoformat()
        erased = None if dry_run else _shred(platform, call.id, now, actor)
        items.append(PurgeItem(call.id, until, erased is not None, erased or {}))
    return items


def _shred(platform: Platform, call_id: int, now: datetime, actor: str) -> dict[str, int] | None:
    """Shred one call in one transaction; None when a hold or a later date now protects it."""
    with platform.uow() as uow:
        call = uow.session.scalar(select(Call).where(Call.id == call_id).with_for_update())
        if call is None or call.legal_hold or call.purged_at is not None:
            return None
        if call.retain_until >= now:
            return None
        rec = uow.session.scalar(select(Recording).where(Recording.call_id == call_id))
        blob_id = rec.blob_id if rec else None
        if rec is not None:
            rec.wrapped_key, rec.kek_id = None, None
        erased = erase_call_content(uow.session, call_id)
        call.status, call.purged_at, call.updated_at = str(CallStatus.PURGED), now, now
        call.error, call.original_filename, call.customer_phone_masked = None, "", None
        append_audit(
            uow.session,
            actor=actor,
            action="call.purge",
            object_type="call",
            object_id=call_id,
            details={"retain_until": call.retain_until.isoformat(), "erased": erased},
        )
        refresh_calls(uow.session, [call_id])  # daily report roll-ups, same transaction
        uow.commit()
    if blob_id:
        platform.store.delete(blob_id)  # the key is already gone: the blob is unreadable anyway
    return erased


def erase_call_content(session: Session, call_id: int) -> dict[str, int]:
    """Delete or blank every row derived from the call's speech (in the caller's transaction).

    Returns the number of rows touched per table; the call row itself is left to the caller.
    """
    erased: dict[str, int] = {}
    derived = (
        SegmentEmotion,
        TranscriptSegment,
        Transcript,
        CallSpeaker,
        CallFeatures,
        CallWaveform,
        CallFlag,
    )
    erased["autoqa_suggestion_decisions"] = _erase_override_reasons(session, call_id)
    for model in (*derived, AutoEvaluationRow, SurveyResponseRow):
        result = session.execute(delete(model).where(model.call_id == call_id))
        erased[model.__tablename__] = _rowcount(result)
    erased["evaluation_comments"] = _erase_comments(session, call_id)
    erased["evaluations"] = _erase_drafts(session, call_id)
    jobs = session.execute(
        update(Job).where(Job.call_id == call_id, Job.error.is_not(None)).values(error=None)
    )
    erased["jobs"] = _rowcount(jobs)
    erased["complaint_cases"] = _erase_complaint_text(session, call_id)
    erased["coaching_tasks"] = _erase_coaching_notes(session, call_id)
    return erased


def _erase_coaching_notes(session: Session, call_id: int) -> int:
    """Blank the leads' coaching notes (辅导记录) on the call's tasks: people type them and may
    quote the call. The task stays (it counts in the coaching figures)."""
    result = session.execute(
        update(CoachingTaskRow)
        .where(CoachingTaskRow.call_id == call_id, CoachingTaskRow.coaching_note != "")
        .values(coaching_note=ERASED_TEXT)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def _erase_complaint_text(session: Session, call_id: int) -> int:
    """Blank the summary and outcome of complaint cases once every call they name is gone.

    People type them and may quote the customer; while another linked call is kept, so is
    the case's text (it is that call's complaint too).
    """
    cases = select(ComplaintCallRow.case_id).where(ComplaintCallRow.call_id == call_id)
    others_kept = (
        select(ComplaintCallRow.id)
        .join(Call, Call.id == ComplaintCallRow.call_id)
        .where(
            ComplaintCallRow.case_id == ComplaintCaseRow.id,
            ComplaintCallRow.call_id != call_id,
            Call.purged_at.is_(None),
        )
        .exists()
    )
    result = session.execute(
        update(ComplaintCaseRow)
        .where(ComplaintCaseRow.id.in_(cases), ~others_kept)
        .values(summary=ERASED_TEXT, outcome=ERASED_TEXT)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _erase_comments(session: Session, call_id: int) -> int:
    """Blank the text of comments on any version of the call's evaluations."""
    versions = select(EvaluationVersionRow.id).join(
        EvaluationRow, EvaluationRow.id == EvaluationVersionRow.evaluation_id
    )
    result = session.execute(
        update(EvaluationCommentRow)
        .where(
            EvaluationCommentRow.version_id.in_(versions.where(EvaluationRow.call_id == call_id))
        )
        .values(text=ERASED_TEXT)
    )
    return _rowcount(result)


def _erase_override_reasons(session: Session, call_id: int) -> int:
    """Blank the inspectors' override reasons (改判理由) on the call's evaluations: people type
    them and may quote the customer. The machine's row they pointed at is already deleted."""
    evaluations = select(EvaluationRow.id).where(EvaluationRow.call_id == call_id)
    result = session.execute(
        update(SuggestionDecisionRow)
        .where(SuggestionDecisionRow.evaluation_id.in_(evaluations))
        .values(reason=ERASED_TEXT, auto_evaluation_id=None)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def _erase_drafts(session: Session, call_id: int) -> int:
    """Blank comment text and return reasons kept in the evaluations' drafts.

    The row version is bumped so that an inspector saving a stale draft gets a conflict
    instead of writing the text back.
    """
    rows = session.scalars(
        select(EvaluationRow).where(EvaluationRow.call_id == call_id).with_for_update()
    ).all()
    for row in rows:
        draft = dict(row.draft or {})
        comments = draft.get("comments") or []
        draft["comments"] = [{**c, "text": ERASED_TEXT} for c in comments]
        row.draft = draft
        row.return_reason = ""
        row.row_version += 1
    return len(rows)


def set_legal_hold(
    platform: Platform, call_id: int, hold: bool, actor: str, reason: str = ""
) -> None:
    with platform.uow() as uow:
        call = _get(uow.session, call_id)
        call.legal_hold = hold
        call.updated_at = platform.clock.now()
        append_audit(
            uow.session,
            actor=actor,
            action="call.legal_hold" if hold else "call.release_hold",
            object_type="call",
            object_id=call_id,
            details={"reason": reason},
        )
        uow.commit()


def add_retention_class(platform: Platform, call_id: int, klass: str, actor: str) -> datetime:
    """Link a call to a complaint/dispute (or any configured class); extends retention."""
    with platform.uow() as uow:
        until = extend_retention(platform, uow.session, _get(uow.session, call_id), klass, actor)
        uow.commit()
        return until


def extend_retention(
    platform: Platform, session: Session, call: Call, klass: str, actor: str
) -> datetime:
    """Add a retention class to a (locked) call in the caller's transaction; audited."""
    classes = parse_classes(call.retention_class) | {klass}
    until = platform.retention_rules.retain_until(call.started_at, classes)
    call.retention_class = format_classes(classes)
    call.retain_until = max(call.retain_until, until)
    call.updated_at = platform.clock.now()
    append_audit(
        session,
        actor=actor,
        action="call.retention_class",
        object_type="call",
        object_id=call.id,
        details={"class": klass, "retain_until": until.isoformat()},
    )
    return until


def _get(session, call_id: int) -> Call:
    call = session.scalar(select(Call).where(Call.id == call_id).with_for_update())
    if call is None:
        raise CallNotFound(f"no call {call_id}")
    return call
