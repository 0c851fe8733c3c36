"""Coaching tasks (辅导): a published result below the pass mark or with a red line opens one
for the agent's team lead; the agent acknowledges it, the lead records what was done, and a
later sampled call of the agent is the follow-up check.

A task is changed only through ``scoring.services.coaching`` (one write path); ``row_version``
makes two people acting at once conflict instead of both winning.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class CoachingTaskRow(Base):
    """One coaching task: why it was opened, who coaches, what was done, how the check went."""

    __tablename__ = "coaching_tasks"
    __table_args__ = (Index("ix_coaching_tasks_state_team", "state", "team_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reasons: Mapped[list[str]] = mapped_column(JSON)  # below_pass, red_line:<item code>
    total: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))  # open | coached | closed | withdrawn
    opened_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]  # the agent read the result (确认)
    coached_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    coached_at: Mapped[datetime | None]
    coaching_note: Mapped[str] = mapped_column(Text, default="")  # 辅导内容
    follow_up_evaluation_id: Mapped[int | None] = mapped_column(ForeignKey("evaluations.id"))
    follow_up_passed: Mapped[bool | None] = mapped_column(Boolean)
    closed_at: Mapped[datetime | None]
    row_version: Mapped[int] = mapped_column(Integer, default=1)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
