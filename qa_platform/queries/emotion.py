"""The customer emotion curve of the player timeline (客户情绪曲线)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models_emotion import SegmentEmotion
from storage.models_pipeline import Transcript


def emotion_curve(s: Session, call_id: int) -> list[dict[str, float]]:
    """The negative-emotion score of each customer segment of the call's latest transcript, in
    time order (``start``, ``end`` in seconds, ``score`` 0..1); empty when none was scored."""
    latest = (
        select(Transcript.id)
        .where(Transcript.call_id == call_id)
        .order_by(Transcript.updated_at.desc(), Transcript.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = s.execute(
        select(SegmentEmotion.start, SegmentEmotion.end, SegmentEmotion.score)
        .where(SegmentEmotion.transcript_id == latest)
        .order_by(SegmentEmotion.start, SegmentEmotion.segment_idx)
    )
    return [
        {"start": round(start, 3), "end": round(end, 3), "score": round(score, 3)}
        for start, end, score in rows
    ]
