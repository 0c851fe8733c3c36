"""SQLAlchemy 2 models for the foundation: teams, users, calls, recordings, jobs, audit, flags.

Other features keep their tables in their own modules on the same ``Base``
(``storage/models_*.py``); ``storage.models_all`` imports every one of them so that
metadata is complete for Alembic and tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# BIGINT on PostgreSQL, INTEGER (so it autoincrements as rowid) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time stored in UTC and always read back zone-aware.

    SQLite has no time zones: SQLAlchemy writes the wall-clock digits of an aware value and
    drops the offset (09:15+08:00 became 09:15 UTC), and reads values back naive. Converting to
    UTC on the way in and marking UTC on the way out gives both databases the same meaning;
    naive inputs are taken to be UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime()}


class Team(Base):
    """A team of agents (班组) under a supervisor."""

    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime]
    # the team lead (班组长) who coaches its agents (辅导); a supervisor, or none
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True))


class User(Base):
    """A person who signs in: admin, supervisor (质检主管), inspector (质检员) or agent (客服代表)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    agent_code: Mapped[str | None] = mapped_column(String(32), unique=True)  # 工号
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # bumped at sign-out, password change and deactivation: older session cookies stop working
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hire_date: Mapped[date | None]  # 上岗日期: an agent's first 30 days are tracked (A.2 培训质量)
    team: Mapped[Team | None] = relationship(foreign_keys=[team_id])


class Call(Base):
    """One customer-service call and its lifecycle status."""

    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    agent_code: Mapped[str | None] = mapped_column(String(32), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8), default="in")
    business_type: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(index=True)
    customer_phone_masked: Mapped[str | None] = mapped_column(String(32))
    agent_channel: Mapped[int | None] = mapped_column(Integer)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="ingested", index=True)
    error: Mapped[str | None] = mapped_column(Text)
    duration_s: Mapped[float] = mapped_column(Float)
    channels: Mapped[int] = mapped_column(Integer)
    sample_rate: Mapped[int] = mapped_column(Integer)
    audio_format: Mapped[str] = mapped_column(String(32))
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    retention_class: Mapped[str] = mapped_column(String(32), default="standard")
    retain_until: Mapped[datetime] = mapped_column(index=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    purged_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # voice (a recording) or chat (网络对话 / 智能客服: a JSON-lines transcript, no audio)
    channel: Mapped[str] = mapped_column(String(8), default="voice", server_default="voice")
    # sha256 of a chat transcript file: the same chat ingested twice is the same call
    chat_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    recording: Mapped[Recording | None] = relationship(back_populates="call", uselist=False)

    @property
    def has_audio(self) -> bool:
        """A chat (网络对话) is text only: no recording, no audio features."""
        return self.channel != "chat"


class Recording(Base):
    """The encrypted audio of a call: where the blob is and its wrapped data key."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), unique=True)
    blob_id: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    encrypted_size: Mapped[int] = mapped_column(BigInteger)
    chunk_size: Mapped[int] = mapped_column(Integer)
    kek_id: Mapped[str | None] = mapped_column(String(64), index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once crypto-shredded
    created_at: Mapped[datetime]
    call: Mapped[Call] = relationship(back_populates="recording")


class Job(Base):
    """A pipeline stage of a call: the database, not the broker, is the source of truth."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("call_id", "stage", "pipeline_version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    pipeline_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CallFlag(Base):
    """One abnormal-call finding (异常) stored with its evidence and rule-set version."""

    __tablename__ = "call_flags"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)  # in Chinese
    rule_set_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    # The evidence as a message key and parameters (qa_platform.flags.messages): any language.
    evidence_key: Mapped[str] = mapped_column(String(64), default="", server_default="")
    evidence_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")


class AuditEvent(Base):
    """Append-only audit log; each event carries the hash of the one before it."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """Single row holding the chain head; locking it serialises concurrent appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))
