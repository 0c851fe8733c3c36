"""What the pipeline produced for a call, as ``qa call show`` and the pages show it: the
latest transcript's segments (masked), speakers and roles, audio features, the model that
transcribed, and the job of each stage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.domain.pipeline import STAGE_NAMES
from storage.models import Call, Job
from storage.models_pipeline import CallFeatures, CallSpeaker, TranscriptSegment
from storage.models_pipeline import Transcript as TranscriptRow


def latest_transcript(session: Session, call_id: int) -> TranscriptRow | None:
    """The call's most recent transcript run (a re-run under a new model version wins)."""
    return session.scalars(
        select(TranscriptRow)
        .where(TranscriptRow.call_id == call_id)
        .order_by(TranscriptRow.updated_at.desc(), TranscriptRow.id.desc())
        .limit(1)
    ).first()


def transcript_segments(
    session: Session, call_id: int, with_words: bool = True
) -> list[dict[str, Any]]:
    """The masked segments of the call's latest transcript, in order (empty if none).

    Pages that show only segment text pass ``with_words=False``: the word timings are the
    bulk of a transcript row and decoding them is wasted there."""
    transcript = latest_transcript(session, call_id)
    return _segments(session, transcript.id, with_words) if transcript else []


def pipeline_detail(session: Session, call: Call) -> dict[str, Any]:
    """``qa call show`` keys: segments, speakers, features, transcript_model, jobs."""
    transcript = latest_transcript(session, call.id)
    return {
        "segments": _segments(session, transcript.id) if transcript else [],
        "speakers": _speakers(session, call.id),
        "features": _features(session, call.id),
        "transcript_model": _model(transcript),
        "jobs": _jobs(session, call.id),
    }


_SEGMENT_COLUMNS = ("speaker", "role", "start", "end", "text", "confidence", "unreliable")


def _segments(
    session: Session, transcript_id: int, with_words: bool = True
) -> list[dict[str, Any]]:
    names = _SEGMENT_COLUMNS + (("words",) if with_words else ())
    rows = session.execute(
        select(*(getattr(TranscriptSegment, n) for n in names))
        .where(TranscriptSegment.transcript_id == transcript_id)
        .order_by(TranscriptSegment.idx)
    )
    return [dict(zip(names, row, strict=True)) for row in rows]


def _speakers(session: Session, call_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CallSpeaker).where(CallSpeaker.call_id == call_id).order_by(CallSpeaker.speaker)
    )
    return [
        {
            "speaker": r.speaker,
            "role": r.role,
            "role_confidence": r.role_confidence,
            "channel": r.channel,
            "evidence": r.evidence,
        }
        for r in rows
    ]


def _features(session: Session, call_id: int) -> dict[str, Any] | None:
    row = session.scalars(
        select(CallFeatures)
        .where(CallFeatures.call_id == call_id)
        .order_by(CallFeatures.updated_at.desc(), CallFeatures.id.desc())
        .limit(1)
    ).first()
    return dict(row.features) if row else None


def _model(transcript: TranscriptRow | None) -> dict[str, Any] | None:
    if transcript is None:
        return None
    return {
        "name": transcript.model,
        "version": transcript.model_version,
        "language": transcript.language,
        "pipeline_version": transcript.pipeline_version,
    }


def _jobs(session: Session, call_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Job).where(Job.call_id == call_id).order_by(Job.id))
    order = {name: i for i, name in enumerate(STAGE_NAMES)}
    jobs = [
        {
            "stage": j.stage,
            "pipeline_version": j.pipeline_version,
            "status": j.status,
            "attempts": j.attempts,
            "error": j.error,
        }
        for j in rows
    ]
    return sorted(jobs, key=lambda j: (j["pipeline_version"], order.get(j["stage"], 99)))
