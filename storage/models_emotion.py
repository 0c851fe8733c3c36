"""Customer emotion scores per transcript segment (客户情绪, migration 0031_emotion).

One row per (transcript, segment index), upserted by the transcribe stage in the same
transaction as the transcript it scores, so running the stage twice leaves one row each.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class SegmentEmotion(Base):
    """Negative-emotion score of one customer segment: text, voice arousal, combined (0..1)."""

    __tablename__ = "segment_emotions"
    __table_args__ = (UniqueConstraint("transcript_id", "segment_idx"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    segment_idx: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text_score: Mapped[float] = mapped_column(Float)
    arousal: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
