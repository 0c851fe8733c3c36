"""Tables of sampling, scorecards, evaluations, appeals and calibration (issue 5).

An assignment is an evaluation row in state ``assigned`` (its inspector is the assignee); the
history of who held it lives in the audit log. Evaluation rows carry ``row_version`` for
optimistic concurrency: every transition is ``UPDATE … WHERE id = :id AND row_version = :v``.
Versions of scores are append-only rows (``evaluation_versions``), never updated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class SamplingPlanRow(Base):
    """A named sampling plan (抽样方案); each change is a new version row."""

    __tablename__ = "sampling_plans"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    stream: Mapped[str] = mapped_column(String(16))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class SamplingRunRow(Base):
    """One execution of a plan: frozen frame hash and size, seed, method, plan version."""

    __tablename__ = "sampling_runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("sampling_plans.id"), index=True)
    plan_name: Mapped[str] = mapped_column(String(100), default="")
    plan_version: Mapped[int | None] = mapped_column(Integer)
    stream: Mapped[str] = mapped_column(String(16), index=True)
    method: Mapped[str] = mapped_column(String(32))
    seed: Mapped[int] = mapped_column(BigInteger)
    frame_hash: Mapped[str] = mapped_column(String(64))
    frame_size: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    allocation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class SampledItemRow(Base):
    """A call drawn by a run, with its stream (random / targeted) and stratum."""

    __tablename__ = "sampled_items"
    __table_args__ = (UniqueConstraint("run_id", "call_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sampling_runs.id"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    stream: Mapped[str] = mapped_column(String(16))
    stratum: Mapped[str] = mapped_column(String(100), default="")
    draw_order: Mapped[int] = mapped_column(Integer)


class ScorecardRow(Base):
    """A scorecard template version (评分表); evaluations point at the version they used."""

    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class EvaluationRow(Base):
    """An evaluation (质检评价) of one sampled call; its state machine lives in scoring.workflow."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("sampled_item_id"),
        Index("ix_evaluations_inspector_state", "inspector_id", "state"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    sampled_item_id: Mapped[int | None] = mapped_column(ForeignKey("sampled_items.id"))
    stream: Mapped[str] = mapped_column(String(16), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # results + comments
    return_reason: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    published_at: Mapped[datetime | None]
    appeal_deadline: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EvaluationVersionRow(Base):
    """One immutable version of an evaluation's scores (v1 approved; v2+ revised on appeal)."""

    __tablename__ = "evaluation_versions"
    __table_args__ = (UniqueConstraint("evaluation_id", "number"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id"))
    total: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    red_line_violations: Mapped[list[str]] = mapped_column(JSON, default=list)
    category_errors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class ItemScoreRow(Base):
    """One item's result in one version (for item-level reports)."""

    __tablename__ = "evaluation_item_scores"
    __table_args__ = (UniqueConstraint("version_id", "item_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("evaluation_versions.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    na: Mapped[bool] = mapped_column(Boolean, default=False)
    violated: Mapped[bool] = mapped_column(Boolean, default=False)


class EvaluationCommentRow(Base):
    """An inspector's comment pinned to a moment of the call (seconds from the start)."""

    __tablename__ = "evaluation_comments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("evaluation_versions.id"), index=True)
    at_s: Mapped[float] = mapped_column(Float)
    item_code: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class AppealRow(Base):
    """An agent's appeal (申诉) and its review decision (复议)."""

    __tablename__ = "appeals"
    __table_args__ = (UniqueConstraint("evaluation_id", "number"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    disputed_items: Mapped[list[str]] = mapped_column(JSON)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    resulting_version: Mapped[int | None] = mapped_column(Integer)


class CalibrationSessionRow(Base):
    """A calibration session (校准会): several inspectors score the same calls."""

    __tablename__ = "calibration_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id"))
    call_ids: Mapped[list[int]] = mapped_column(JSON)
    inspector_ids: Mapped[list[int]] = mapped_column(JSON)
    reference_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class CalibrationScoreRow(Base):
    """One participant's (or the reference's) score of one item of one call."""

    __tablename__ = "calibration_scores"
    __table_args__ = (UniqueConstraint("session_id", "inspector_id", "call_id", "item_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("calibration_sessions.id"), index=True)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    item_code: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    is_reference: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
