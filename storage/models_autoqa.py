"""Auto evaluations (机器预评分): the machine's scorecard result for each analysed call.

Kept apart from the people's evaluations (``evaluations`` and its versions): nothing here is
ever written by an inspector, and nothing here overwrites a person's decision. One row per
call, scorecard version and rule-set version: re-running under the same versions updates the
row in place, a new rule set or scorecard version adds a row and keeps the old one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class AutoEvaluationRow(Base):
    """One call's auto evaluation under one scorecard version and one rule-set version."""

    __tablename__ = "auto_evaluations"
    __table_args__ = (UniqueConstraint("call_id", "scorecard_id", "rule_set_version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id"))
    rule_set_version: Mapped[str] = mapped_column(String(64))
    total: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    red_line: Mapped[bool] = mapped_column(Boolean)  # a judged red line was violated
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # ItemJudgement.to_dict() each
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)  # CallMetrics.to_dict()
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
