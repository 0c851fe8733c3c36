"""Maintains the daily report roll-ups (日汇总) of ``storage.models_rollups``.

A roll-up row is never adjusted by a delta: the (local day, agent) slice a changed call belongs
to is deleted and counted again from the raw calls and flags, in the caller's transaction. A
slice is a few dozen calls, so a write pays a few milliseconds, and a roll-up row can only ever
equal what the raw query would count. Nothing is maintained until a rebuild has written the
``report_rollup_state`` row (``qa report rollup --rebuild``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, delete, distinct, exists, func, insert, literal, select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import RATING_MAX, RATING_MIN, SATISFIED_FROM, CallStatus
from storage.models import Call, CallFlag
from storage.models_rollups import DailyCallRollup, DailyFlagRollup, RollupState

STATE_ID = 1
ALL_HISTORY = date(1970, 1, 1)  # complete_from of a rebuild over every call
_CELL = (Call.team_id, Call.agent_id, Call.agent_code, Call.business_type)


@dataclass(frozen=True)
class RebuildResult:
    """What a rebuild (重建) counted: the days and the rows written."""

    first_day: date | None
    last_day: date | None
    days: int
    call_rows: int
    flag_rows: int
    complete_from: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "days": self.days,
            "call_rows": self.call_rows,
            "flag_rows": self.flag_rows,
            "complete_from": self.complete_from.isoformat() if self.complete_from else None,
        }


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local day's [start, end) as UTC instants."""
    lo = datetime.combine(day, time(), tz).astimezone(UTC)
    hi = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    return lo, hi


def local_day(at: datetime, tz: ZoneInfo) -> date:
    """The centre's local date of a stored instant (naive values are UTC)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(tz).date()


def state(session: Session) -> RollupState | None:
    """The roll-up's coverage row, None while it has never been built."""
    return session.get(RollupState, STATE_ID)


def covers(session: Session, tz_name: str, start: date) -> bool:
    """Whether the roll-up is complete from ``start`` on, counted in the same time zone."""
    row = state(session)
    return row is not None and row.timezone == tz_name and row.complete_from <= start


def refresh_calls(session: Session, call_ids: Iterable[int]) -> int:
    """Count again the (day, agent) slices of these calls; returns the slices refreshed.

    Call it after the change, in the same transaction. A no-op until the first rebuild."""
    row = state(session)
    ids = sorted(set(call_ids))
    if row is None or not ids:
        return 0
    session.flush()
    tz = ZoneInfo(row.timezone)
    found = session.execute(select(Call.started_at, Call.agent_id).where(Call.id.in_(ids)))
    slices = {(local_day(at, tz), agent) for at, agent in found}
    for day, agent in sorted(slices, key=lambda s: (s[0], s[1] if s[1] is not None else -1)):
        _refresh_slice(session, tz, day, agent)
    return len(slices)


def _agent_is(column: Any, agent_id: int | None) -> Any:
    return column.is_(None) if agent_id is None else column == agent_id


def _refresh_slice(session: Session, tz: ZoneInfo, day: date, agent_id: int | None) -> None:
    session.execute(
        delete(DailyCallRollup).where(
            DailyCallRollup.day == day, _agent_is(DailyCallRollup.agent_id, agent_id)
        )
    )
    session.execute(
        delete(DailyFlagRollup).where(
            DailyFlagRollup.day == day, _agent_is(DailyFlagRollup.agent_id, agent_id)
        )
    )
    _count_day(session, tz, day, _agent_is(Call.agent_id, agent_id))


def satisfaction_sums() -> tuple[Any, Any]:
    """SUMs of calls with a valid rating (1–5) and of satisfied ones (4–5), per group."""
    valid = Call.satisfaction.between(RATING_MIN, RATING_MAX)
    rated = func.sum(case((valid, 1), else_=0))
    satisfied = func.sum(case((and_(valid, Call.satisfaction >= SATISFIED_FROM), 1), else_=0))
    return rated, satisfied


def _count_day(session: Session, tz: ZoneInfo, day: date, *where: Any) -> None:
    """INSERT … SELECT the roll-up rows of one local day (optionally one agent's slice)."""
    lo, hi = day_bounds(day, tz)
    in_day = (Call.started_at >= lo, Call.started_at < hi, *where)
    the_day = literal(day, Date)
    analysed = func.sum(case((Call.status == str(CallStatus.ANALYSED), 1), else_=0))
    # EXISTS, not IN (all flags): a slice probes the call_flags.call_id index per call
    has_flag = exists().where(CallFlag.call_id == Call.id)
    flagged = func.sum(case((has_flag, 1), else_=0))
    rated, satisfied = satisfaction_sums()
    calls = (
        select(the_day, *_CELL, func.count(), analysed, flagged, rated, satisfied)
        .where(*in_day)
        .group_by(*_CELL)
    )
    cell_cols = ["day", "team_id", "agent_id", "agent_code", "business_type"]
    counted = ["received", "analysed", "flagged", "rated", "satisfied"]
    session.execute(insert(DailyCallRollup).from_select([*cell_cols, *counted], calls))
    flags = (
        select(
            the_day,
            *_CELL,
            CallFlag.type,
            CallFlag.rule_set_version,
            func.count(distinct(CallFlag.call_id)),
            func.count(),
        )
        .select_from(CallFlag)
        .join(Call, Call.id == CallFlag.call_id)
        .where(*in_day)
        .group_by(*_CELL, CallFlag.type, CallFlag.rule_set_version)
    )
    session.execute(
        insert(DailyFlagRollup).from_select(
            [*cell_cols, "flag_type", "rule_set_version", "calls", "flags"], flags
        )
    )


def rebuild(
    session: Session, tz_name: str, now: datetime, since: date | None = None
) -> RebuildResult:
    """Recount every day from ``since`` to the last call's day; without ``since``, everything.

    Days before ``since`` are kept; the coverage only moves earlier, never later."""
    tz = ZoneInfo(tz_name)
    first, last = session.execute(
        select(func.min(Call.started_at), func.max(Call.started_at))
    ).one()
    start = since if since is not None else (local_day(first, tz) if first else None)
    end = local_day(last, tz) if last else None
    for table in (DailyCallRollup, DailyFlagRollup):
        session.execute(delete(table).where(table.day >= since) if since else delete(table))
    days = 0
    day = start
    while day is not None and end is not None and day <= end:
        _count_day(session, tz, day)
        days, day = days + 1, day + timedelta(days=1)
    call_rows, flag_rows = (
        _rows(session, table, since) for table in (DailyCallRollup, DailyFlagRollup)
    )
    covered = _cover(session, tz_name, since or ALL_HISTORY, now)
    return RebuildResult(start, end, days, call_rows, flag_rows, covered)


def _rows(session: Session, table: Any, since: date | None) -> int:
    stmt = select(func.count()).select_from(table)
    return int(session.scalar(stmt.where(table.day >= since) if since else stmt) or 0)


def _cover(session: Session, tz_name: str, start: date, now: datetime) -> date:
    row = state(session)
    if row is None or row.timezone != tz_name:
        if row is not None:  # counted in another time zone: every day before is void
            session.execute(delete(DailyCallRollup).where(DailyCallRollup.day < start))
            session.execute(delete(DailyFlagRollup).where(DailyFlagRollup.day < start))
            session.delete(row)
            session.flush()
        row = RollupState(id=STATE_ID, timezone=tz_name, complete_from=start, built_at=now)
        session.add(row)
    else:
        row.complete_from = min(row.complete_from, start)
        row.built_at = now
    session.flush()
    return row.complete_from
