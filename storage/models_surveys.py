"""Satisfaction survey answers (满意度回访) imported after the call, by the call's external id.

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
