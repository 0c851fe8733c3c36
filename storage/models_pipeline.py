"""Speech-pipeline results: transcripts and their segments, audio features, speakers.

Every result table has a unique key on (call, version) so that running a stage twice
replaces its result instead of adding a second one. Text and words are stored already masked
for personal data; the raw digits never reach the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class Transcript(Base):
    """One transcription of a call by one model version (转写结果)."""

    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("call_id", "model_version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    model: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(128))
    pipeline_version: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TranscriptSegment(Base):
    """One speaker turn of a transcript; ``text`` and ``words`` are PII-masked."""

    __tablename__ = "transcript_segments"
    __table_args__ = (UniqueConstraint("transcript_id", "idx"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    confidence: Mapped[float] = mapped_column(Float, default=1.0)
    unreliable: Mapped[str | None] = mapped_column(String(64))


class CallFeatures(Base):
    """Audio measurements of a call (silences, talk time per role, overlap, energy)."""

    __tablename__ = "call_features"
    __table_args__ = (UniqueConstraint("call_id", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    features: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CallWaveform(Base):
    """The player's waveform (波形): peak per bucket of a call's recording, computed once by the
    features stage. Keyed by the recording's blob so that it is drawn only while that
    recording is readable (a purge or a re-ingest under another blob makes it stale)."""

    __tablename__ = "call_waveforms"
    __table_args__ = (UniqueConstraint("call_id", "buckets"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    blob_id: Mapped[str] = mapped_column(String(64))
    buckets: Mapped[int] = mapped_column(Integer)
    peaks: Mapped[list[float]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class CallSpeaker(Base):
    """A speaker found in a call and the role given to it (agent 客服 / customer 客户)."""

    __tablename__ = "call_speakers"
    __table_args__ = (UniqueConstraint("call_id", "speaker"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    speaker: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    role_confidence: Mapped[float] = mapped_column(Float, default=1.0)
    channel: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)  # cues that decided the role
