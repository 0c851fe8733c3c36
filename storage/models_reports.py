"""Stored quality-report snapshots (品质日报/周报/月报, issue 7).

A snapshot is immutable content: a recompute whose figures differ adds a new version row with a
change log against the previous version; only ``status`` (provisional → final) and the publish
fields ever change on a stored row, and each such change writes an audit event.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column

from qa_platform.domain.errors import Conflict
from storage.models import Base, BigId


class ReportSnapshot(Base):
    """One version of the report of one period (kind daily | weekly | monthly | quarterly | half_yearly)."""

    __tablename__ = "report_snapshots"
    __table_args__ = (
        UniqueConstraint("kind", "period_start", "version"),
        Index("ix_report_snapshots_period", "kind", "period_start"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)  # exclusive
    period_label: Mapped[str] = mapped_column(String(16))  # 2026-11-24 | 2026-W48 | 2026-11
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # provisional | final
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)  # scorecards, rule sets, versions hash
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # vs the previous version
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime]


MUTABLE = frozenset({"status", "published", "published_by", "published_at"})


class SnapshotImmutableError(Conflict):
    """Someone tried to change a stored snapshot's content instead of adding a version."""


@event.listens_for(ReportSnapshot, "before_update")
def _refuse_content_changes(_mapper: Any, _connection: Any, target: ReportSnapshot) -> None:
    """Only the status and the publish fields may change on a stored snapshot."""
    state = inspect(target)
    changed = {a.key for a in state.attrs if a.history.has_changes()} - MUTABLE
    if changed:
        raise SnapshotImmutableError(
            f"report snapshot {target.id} is immutable; {sorted(changed)} cannot change "
            "(recompute to add a new version)"
        )
    status = state.attrs.status.history
    if status.deleted and status.deleted[0] == "final" and target.status != "final":
        raise SnapshotImmutableError(f"report snapshot {target.id} is final; it cannot go back")
