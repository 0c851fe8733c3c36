"""Customer emotion scores (客户情绪): stored per transcript segment, read for rules and player.

The transcribe stage computes the scores (``workers.emotion``) and saves them here in the same
transaction as the transcript they belong to; the flag rules and the player read them back.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.emotion import EMOTION_MODEL, SegmentEmotion
from storage.models_emotion import SegmentEmotion as SegmentEmotionRow

_KEYS = ("transcript_id", "segment_idx")


def save_emotion(
    session: Session,
    call_id: int,
    transcript_id: int,
    scores: Sequence[SegmentEmotion],
    model: str = EMOTION_MODEL,
) -> int:
    """Upsert the scores of one transcript under (transcript, segment index); rows of segments
    that are no longer scored are removed. Safe to run twice. Returns the number of rows."""
    session.execute(
        delete(SegmentEmotionRow).where(
            SegmentEmotionRow.transcript_id == transcript_id,
            SegmentEmotionRow.segment_idx.not_in([s.idx for s in scores]),
        )
    )
    if not scores:
        return 0
    now = utc_now()
    rows = [
        {
            "transcript_id": transcript_id,
            "call_id": call_id,
            "segment_idx": s.idx,
            "start": s.start,
            "end": s.end,
            "text_score": s.text_score,
            "arousal": s.arousal,
            "score": s.score,
            "model": model,
            "created_at": now,
            "updated_at": now,
        }
        for s in scores
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(SegmentEmotionRow).values(rows)
    changes = {c: stmt.excluded[c] for c in rows[0] if c not in _KEYS and c != "created_at"}
    session.execute(stmt.on_conflict_do_update(index_elements=list(_KEYS), set_=changes))
    return len(rows)


def emotion_by_transcript(
    session: Session, transcript_ids: Sequence[int]
) -> dict[int, list[SegmentEmotion]]:
    """The stored scores of each transcript, in time order."""
    out: dict[int, list[SegmentEmotion]] = {}
    if not transcript_ids:
        return out
    rows = session.scalars(
        select(SegmentEmotionRow)
        .where(SegmentEmotionRow.transcript_id.in_(list(transcript_ids)))
        .order_by(SegmentEmotionRow.transcript_id, SegmentEmotionRow.start)
    )
    for r in rows:
        out.setdefault(r.transcript_id, []).append(
            SegmentEmotion(r.segment_idx, r.start, r.end, r.text_score, r.arousal, r.score)
        )
    return out
