"""Centre data that arrives beside the calls: satisfaction survey answers (满意度回访), imported
after the call by its external id, and business lines (业务条线 → scorecard).

A survey system (SMS, IVR, WeChat) asks the customer after the call and reports later; each
answer is kept as it arrived (``survey_id`` makes a re-import a no-op), and the call's
``satisfaction`` is the latest valid answer's rating, so A.1 客户满意度 counts every customer
who rated, not only the inspected calls (``qa_platform.services.surveys``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class SurveyResponseRow(Base):
    """One customer's answer to the satisfaction survey of one call (rating 1–5)."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_call", "call_id", "answered_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(128), unique=True)  # the survey system's id
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    rating: Mapped[int] = mapped_column(Integer)  # 1..5; 4 and 5 count as 满意
    channel: Mapped[str] = mapped_column(String(16), default="")  # sms | ivr | wechat | …
    answered_at: Mapped[datetime]
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(64))


class BusinessLineRow(Base):
    """A business line (业务条线): the scorecard its calls are scored against (seed 002 §5.3).

    Calls carry a ``business_type`` from ingest; a type without a row uses the default
    scorecard. Sampling assignments, the machine's pre-scoring and therefore the evaluation
    page and the reports' 业务类型 rows all follow this mapping."""

    __tablename__ = "business_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_type: Mapped[str] = mapped_column(String(64), unique=True)
    scorecard_name: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))
