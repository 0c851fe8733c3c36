"""Auto evaluations (机器预评分): the machine's scorecard result for each analysed call.

Kept apart from the people's evaluations (``evaluations`` and its versions): nothing here is
ever written by an inspector, and nothing here overwrites a person's decision. One row per
call, scorecard version and rule-set version: re-running under the same versions updates the
row in place, a new rule set or scorecard version adds a row and keeps the old one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, UniqueConstraint
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


class SuggestionDecisionRow(Base):
    """The inspector's decision on one machine suggestion (机器建议采纳/改判) of an evaluation.

    One row per evaluation and item, rewritten on every save of the scorecard form: what the
    machine suggested (score, or violated for a red line), what the inspector entered, whether
    that is ``accepted`` (the same) or ``overridden`` (different, with the inspector's reason).
    """

    __tablename__ = "autoqa_suggestion_decisions"
    __table_args__ = (UniqueConstraint("evaluation_id", "item_code"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), index=True)
    # the machine's row the suggestion came from; emptied when retention erases the call
    auto_evaluation_id: Mapped[int | None] = mapped_column(
        ForeignKey("auto_evaluations.id", ondelete="SET NULL")
    )
    item_code: Mapped[str] = mapped_column(String(64))
    suggested_score: Mapped[float | None] = mapped_column(Float)
    suggested_violated: Mapped[bool] = mapped_column(Boolean)
    entered_score: Mapped[float | None] = mapped_column(Float)  # None: red line, or 不适用
    entered_violated: Mapped[bool] = mapped_column(Boolean)
    entered_na: Mapped[bool] = mapped_column(Boolean)
    decision: Mapped[str] = mapped_column(String(16))  # accepted | overridden
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime]
