"""Call and flag counts per local day and agent for the dashboard (总览), scoped to teams.

Read from the daily roll-ups (日汇总, ``storage.models_rollups``) when they cover the first day
asked for, so the dashboard reads a few thousand small rows however many calls the centre has;
otherwise counted from the raw calls (a centre that never ran ``qa report rollup --rebuild``).
Both paths give the same numbers (``tests/web/test_dashboard.py`` checks it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallStatus
from storage import rollups
from storage.models import Call, CallFlag
from storage.models_rollups import DailyCallRollup, DailyFlagRollup

Teams = frozenset[int] | None  # the viewer's agent teams; None: the whole centre


@dataclass(frozen=True)
class CallCell:
    """Calls started on one local day by one agent: received, analysed, flagged (any type)."""

    day: date
    team_id: int | None
    agent_id: int | None
    agent_code: str | None
    received: int
    analysed: int
    flagged: int


@dataclass(frozen=True)
class FlagCell:
    """Calls of one local day and agent that carry a flag of ``flag_type``."""

    day: date
    team_id: int | None
    agent_id: int | None
    flag_type: str
    calls: int


def _in_teams(column: Any, teams: Teams) -> list[Any]:
    return [] if teams is None else [column.in_(sorted(teams) or [-1])]


def call_cells(s: Session, tz: ZoneInfo, first: date, last: date, teams: Teams) -> list[CallCell]:
    """Per (day, agent) call counts of ``first`` … ``last`` (local days, inclusive)."""
    if rollups.covers(s, tz.key, first):
        return _rollup_calls(s, first, last, teams)
    return _raw_calls(s, tz, first, last, teams)


def flag_cells(s: Session, tz: ZoneInfo, first: date, last: date, teams: Teams) -> list[FlagCell]:
    """Per (day, agent, flag type) flagged-call counts of ``first`` … ``last``."""
    if rollups.covers(s, tz.key, first):
        return _rollup_flags(s, first, last, teams)
    return _raw_flags(s, tz, first, last, teams)


def _rollup_calls(s: Session, first: date, last: date, teams: Teams) -> list[CallCell]:
    r = DailyCallRollup
    cell = (r.day, r.team_id, r.agent_id, r.agent_code)
    stmt = (
        select(*cell, func.sum(r.received), func.sum(r.analysed), func.sum(r.flagged))
        .where(r.day >= first, r.day <= last, *_in_teams(r.team_id, teams))
        .group_by(*cell)
    )
    return [CallCell(d, t, a, c, int(x), int(y), int(z)) for d, t, a, c, x, y, z in s.execute(stmt)]


def _rollup_flags(s: Session, first: date, last: date, teams: Teams) -> list[FlagCell]:
    r = DailyFlagRollup
    cell = (r.day, r.team_id, r.agent_id, r.flag_type)
    stmt = (
        select(*cell, func.sum(r.calls))
        .where(r.day >= first, r.day <= last, *_in_teams(r.team_id, teams))
        .group_by(*cell)
    )
    return [FlagCell(d, t, a, f, int(n)) for d, t, a, f, n in s.execute(stmt)]


def _raw_range(tz: ZoneInfo, first: date, last: date, teams: Teams) -> list[Any]:
    lo, _ = rollups.day_bounds(first, tz)
    _, hi = rollups.day_bounds(last, tz)
    return [Call.started_at >= lo, Call.started_at < hi, *_in_teams(Call.team_id, teams)]


def _raw_calls(s: Session, tz: ZoneInfo, first: date, last: date, teams: Teams) -> list[CallCell]:
    has_flag = exists().where(CallFlag.call_id == Call.id)
    stmt = select(
        Call.started_at, Call.team_id, Call.agent_id, Call.agent_code, Call.status, has_flag
    ).where(*_raw_range(tz, first, last, teams))
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for at, team, agent, code, status, flagged in s.execute(stmt):
        counts = sums[(rollups.local_day(at, tz), team, agent, code)]
        counts[0] += 1
        counts[1] += status == str(CallStatus.ANALYSED)
        counts[2] += bool(flagged)
    return [CallCell(*key, *counts) for key, counts in sums.items()]


def _raw_flags(s: Session, tz: ZoneInfo, first: date, last: date, teams: Teams) -> list[FlagCell]:
    stmt = (
        select(Call.id, Call.started_at, Call.team_id, Call.agent_id, CallFlag.type)
        .join(CallFlag, CallFlag.call_id == Call.id)
        .where(*_raw_range(tz, first, last, teams))
        .distinct()
    )
    sums: dict[tuple[Any, ...], int] = defaultdict(int)
    for _call, at, team, agent, flag_type in s.execute(stmt):
        sums[(rollups.local_day(at, tz), team, agent, flag_type)] += 1
    return [FlagCell(day, team, agent, kind, n) for (day, team, agent, kind), n in sums.items()]


@dataclass(frozen=True)
class Volume:
    """Received, analysed and flagged calls of a span, and flagged calls per flag type."""

    received: int = 0
    analysed: int = 0
    flagged: int = 0

    @property
    def flagged_rate(self) -> float | None:
        """Flagged calls over analysed calls (flags come from the analysis)."""
        return self.flagged / self.analysed if self.analysed else None


def volume_of(cells: Iterable[CallCell]) -> Volume:
    received = analysed = flagged = 0
    for c in cells:
        received, analysed, flagged = (
            received + c.received,
            analysed + c.analysed,
            flagged + c.flagged,
        )
    return Volume(received, analysed, flagged)


def by_type(cells: Iterable[FlagCell]) -> dict[str, int]:
    """Flagged calls per flag type."""
    out: dict[str, int] = defaultdict(int)
    for c in cells:
        out[c.flag_type] += c.calls
    return dict(out)
