"""Complaint cases (投诉工单) and the calls they concern.

A case is changed only through ``qa_platform.services.complaints`` (one write path); its
``row_version`` makes two people acting at once conflict instead of both winning.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class ComplaintCaseRow(Base):
    """One complaint case: kind (抱怨/投诉/重大投诉), state, deadline, outcome, alert time."""

    __tablename__ = "complaint_cases"
    __table_args__ = (Index("ix_complaint_cases_state_deadline", "state", "deadline_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))  # manual | auto (complaint_risk)
    summary: Mapped[str] = mapped_column(Text, default="")
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    alerted_at: Mapped[datetime | None]  # when the supervisors' notifier accepted the alert
    alert_channel: Mapped[str] = mapped_column(String(16), default="")
    decided_by: Mapped[str | None] = mapped_column(String(64))  # confirmed or dismissed by
    decided_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(Text, default="")  # 处理结果, or the dismissal reason
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]


class ComplaintCallRow(Base):
    """A call a case concerns; a call belongs to a case at most once."""

    __tablename__ = "complaint_calls"
    __table_args__ = (UniqueConstraint("case_id", "call_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("complaint_cases.id"), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    linked_at: Mapped[datetime]
