"""Daily report roll-ups (日汇总, issue 16): calls and flags pre-counted per local day × cell.

The monthly report over ten million calls reads these small rows instead of grouping a month
of raw calls. Rows are maintained in the transaction that changes their calls (ingest, analysis
done, flags replaced: ``storage.rollups.refresh_calls``) and rebuilt by ``qa report rollup
--rebuild``. ``report_rollup_state`` (one row) says from which local day the roll-up is
complete and in which time zone its days are counted; without that row nothing reads it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId, Call

FRAME_PREDICATE = "purged_at IS NULL AND status = 'analysed'"

# A sampling frame (analysed, not purged, one month, ids ascending) read from the index alone:
# at ten million calls the plain started_at index fetched 800 000 heap rows for it (issue 16).
Index(
    "ix_calls_sampling_frame",
    Call.started_at,
    Call.id,
    postgresql_where=text(FRAME_PREDICATE),
    sqlite_where=text(FRAME_PREDICATE),
)


class DailyCallRollup(Base):
    """Calls started on one local day in one raw cell: received, analysed, flagged (any type)."""

    __tablename__ = "report_daily_calls"
    __table_args__ = (Index("ix_report_daily_calls_day_agent", "day", "agent_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agent_code: Mapped[str | None] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(64))
    received: Mapped[int] = mapped_column(Integer)
    analysed: Mapped[int] = mapped_column(Integer)
    flagged: Mapped[int] = mapped_column(Integer)
    rated: Mapped[int] = mapped_column(Integer, default=0)  # a valid satisfaction rating (1–5)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)  # rated 4 or 5 (满意)


class DailyFlagRollup(Base):
    """Flags of one local day, raw cell, flag type and rule-set version: calls and flags."""

    __tablename__ = "report_daily_flags"
    __table_args__ = (Index("ix_report_daily_flags_day_agent", "day", "agent_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agent_code: Mapped[str | None] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(64))
    flag_type: Mapped[str] = mapped_column(String(32))
    rule_set_version: Mapped[str] = mapped_column(String(64))
    calls: Mapped[int] = mapped_column(Integer)
    flags: Mapped[int] = mapped_column(Integer)


class RollupState(Base):
    """From which local day (in ``timezone``) the daily roll-ups are complete."""

    __tablename__ = "report_rollup_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    complete_from: Mapped[date] = mapped_column(Date)
    built_at: Mapped[datetime]
