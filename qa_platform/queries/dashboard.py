"""The supervisor's home (主管总览): today and this month at a glance, trends and rankings.

Everything counts only the calls of the agent teams in the viewer's supervision scope (监管范围,
``qa_platform.services.access.supervisor_teams``; an admin sees the whole centre). Days are the
centre's local days (``QA_CENTRE_TIMEZONE``). Call and flag counts come from the daily roll-ups
(``qa_platform.queries.dashboard_counts``); scores, reviews, appeals and sampling from their
(much smaller) tables.

Overdue (超时): a submitted evaluation waits for review at most ``REVIEW_DUE_WORKING_DAYS``
working days after its submission; an appeal waits for its decision at most
``APPEAL_DUE_WORKING_DAYS`` working days after it was filed (the centre's working calendar,
``QA_HOLIDAY_CALENDAR_PATH``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.queries.dashboard_counts import (
    CallCell,
    FlagCell,
    Teams,
    Volume,
    by_type,
    call_cells,
    flag_cells,
    volume_of,
)
from qa_platform.queries.dashboard_work import Progress, WorkWaiting, sample_progress, waiting
from qa_platform.services.access import supervisor_teams
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from storage.models import Call, Team, User
from storage.models_scoring import EvaluationRow, EvaluationVersionRow

TREND_WEEKS = 8
RANKING_DAYS = 28  # rankings cover the last four weeks (a month that just began is too short)
SCORED_STATES = ("published", "appealed", "final")
AGENT_ROWS = 50


@dataclass(frozen=True)
class Span:
    """Local days ``first`` … ``last`` (inclusive)."""

    first: date
    last: date

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Glance:
    """One period at a glance: volume, flagged calls per type."""

    span: Span
    volume: Volume
    flag_types: list[tuple[str, int, float | None]]  # type, calls, share of analysed calls


@dataclass(frozen=True)
class Ranked:
    """One team or agent in the ranking, with where its calls and evaluations are listed."""

    name: str
    code: str
    volume: Volume
    evaluations: int
    mean_score: float | None
    red_lines: int
    calls_query: dict[str, str]
    evaluations_query: dict[str, str]


@dataclass(frozen=True)
class Trend:
    """The chart series (one point per local day, scores one per week)."""

    days: list[str]
    received: list[int]
    analysed: list[int]
    flagged: list[int]
    weeks: list[str]
    mean_score: list[float | None]
    flag_types: list[str]
    flag_rates: list[float | None]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Dashboard:
    """What the supervisor's home shows."""

    whole_centre: bool
    today: Glance
    month: Glance
    trend: Trend
    ranking_span: Span
    teams: list[Ranked]
    agents: list[Ranked]
    work: WorkWaiting
    progress: Progress
    empty: bool = field(default=False)


@dataclass(frozen=True)
class _Score:
    day: date
    team_id: int | None
    agent_id: int
    total: float
    red_line: bool


def supervisor_dashboard(platform: Platform, user: SessionUser) -> Dashboard:
    """The dashboard of ``user`` (a supervisor: their scope; an admin: the whole centre)."""
    tz = ZoneInfo(platform.settings.centre_timezone)
    now = platform.clock.now()
    today = now.astimezone(tz).date()
    trend_span = Span(today - timedelta(days=7 * TREND_WEEKS - 1), today)
    month = Span(today.replace(day=1), today)
    first = min(trend_span.first, month.first)
    with platform.uow() as uow:
        s = uow.session
        teams = None if user.role == "admin" else supervisor_teams(s, user)
        calls = call_cells(s, tz, first, today, teams)
        flags = flag_cells(s, tz, first, today, teams)
        scores = _scores(s, tz, first, today, teams)
        ranking_span = Span(today - timedelta(days=RANKING_DAYS - 1), today)
        team_rows, agent_rows = _rankings(s, ranking_span, calls, flags, scores)
        work = waiting(s, platform.settings, teams, now)
        progress = sample_progress(s, tz, month.first, today, teams)
    return Dashboard(
        whole_centre=teams is None,
        today=_glance(Span(today, today), calls, flags),
        month=_glance(month, calls, flags),
        trend=_trend(trend_span, calls, flags, scores),
        ranking_span=ranking_span,
        teams=team_rows,
        agents=agent_rows,
        work=work,
        progress=progress,
        empty=not calls,
    )


def _glance(span: Span, calls: list[CallCell], flags: list[FlagCell]) -> Glance:
    volume = volume_of(c for c in calls if span.holds(c.day))
    types = by_type(f for f in flags if span.holds(f.day))
    return Glance(span, volume, _rates(types, volume))


def _rates(types: dict[str, int], volume: Volume) -> list[tuple[str, int, float | None]]:
    share = (lambda n: n / volume.analysed) if volume.analysed else (lambda n: None)
    return [(t, n, share(n)) for t, n in sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))]


def _scores(s: Session, tz: ZoneInfo, first: date, last: date, teams: Teams) -> list[_Score]:
    """Published results (and their current version's red lines) of the span, by publication
    day, in scope."""
    lo = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
    hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    v = EvaluationVersionRow
    stmt = (
        select(
            EvaluationRow.published_at,
            Call.team_id,
            EvaluationRow.agent_id,
            EvaluationRow.total,
            v.red_line_violations,
        )
        .join(Call, Call.id == EvaluationRow.call_id)
        .outerjoin(
            v, (v.evaluation_id == EvaluationRow.id) & (v.number == EvaluationRow.current_version)
        )
        .where(
            EvaluationRow.state.in_(SCORED_STATES),
            EvaluationRow.published_at >= lo,
            EvaluationRow.published_at < hi,
            EvaluationRow.total.is_not(None),
        )
    )
    if teams is not None:
        stmt = stmt.where(Call.team_id.in_(sorted(teams) or [-1]))
    return [
        _Score(_local(at, tz), team, agent, float(total), bool(red))
        for at, team, agent, total, red in s.execute(stmt)
        if at is not None and total is not None  # both filtered in SQL; narrowed for mypy
    ]


def _local(at: datetime, tz: ZoneInfo) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(tz).date()


def _trend(span: Span, calls: list[CallCell], flags: list[FlagCell], scores: list[_Score]) -> Trend:
    days = [span.first + timedelta(days=i) for i in range((span.last - span.first).days + 1)]
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for c in calls:
        row = per_day[c.day]
        row[0], row[1], row[2] = row[0] + c.received, row[1] + c.analysed, row[2] + c.flagged
    weeks = days[::7]
    week_totals: dict[date, list[float]] = defaultdict(list)
    for sc in scores:
        if span.holds(sc.day):
            week_totals[weeks[(sc.day - span.first).days // 7]].append(sc.total)
    in_span = volume_of(c for c in calls if span.holds(c.day))
    rates = _rates(by_type(f for f in flags if span.holds(f.day)), in_span)
    return Trend(
        days=[d.isoformat() for d in days],
        received=[per_day[d][0] for d in days],
        analysed=[per_day[d][1] for d in days],
        flagged=[per_day[d][2] for d in days],
        weeks=[w.isoformat() for w in weeks],
        mean_score=[_mean(week_totals.get(w, [])) for w in weeks],
        flag_types=[t for t, _, _ in rates],
        flag_rates=[r for _, _, r in rates],
    )


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _rankings(
    s: Session,
    span: Span,
    calls: list[CallCell],
    flags: list[FlagCell],
    scores: list[_Score],
) -> tuple[list[Ranked], list[Ranked]]:
    calls = [c for c in calls if span.holds(c.day)]
    scores = [x for x in scores if span.holds(x.day)]
    team_ids = {c.team_id for c in calls} | {x.team_id for x in scores}
    agent_ids = {c.agent_id for c in calls} | {x.agent_id for x in scores}
    teams = dict(s.execute(select(Team.id, Team.name).where(Team.id.in_(_ids(team_ids)))).all())
    people = {
        u.id: (u.display_name or u.username, u.agent_code or "")
        for u in s.scalars(select(User).where(User.id.in_(_ids(agent_ids))))
    }
    dates = {"date_from": span.first.isoformat(), "date_to": (span.last + timedelta(1)).isoformat()}
    team_rows = [
        _ranked(
            teams.get(t, "") if t is not None else "",
            "",
            [c for c in calls if c.team_id == t],
            [x for x in scores if x.team_id == t],
            {"team": teams.get(t, "")} if t is not None else {},
            dates,
        )
        for t in team_ids
    ]
    agent_rows = [
        _ranked(
            people.get(a, ("", ""))[0] if a is not None else "",
            _code(a, people, calls),
            [c for c in calls if c.agent_id == a],
            [x for x in scores if x.agent_id == a],
            {"agent": _code(a, people, calls)} if a is not None else {},
            dates,
        )
        for a in agent_ids
    ]
    return _order(team_rows), _order(agent_rows)[:AGENT_ROWS]


def _ids(values: Iterable[int | None]) -> list[int]:
    return sorted(v for v in values if v is not None) or [-1]


def _code(agent: int | None, people: dict[int, tuple[str, str]], calls: list[CallCell]) -> str:
    known = people.get(agent, ("", ""))[1] if agent is not None else ""
    return known or next((c.agent_code or "" for c in calls if c.agent_id == agent), "")


def _ranked(
    name: str,
    code: str,
    calls: list[CallCell],
    scores: list[_Score],
    filters: dict[str, str],
    dates: dict[str, str],
) -> Ranked:
    return Ranked(
        name=name,
        code=code,
        volume=volume_of(calls),
        evaluations=len(scores),
        mean_score=_mean([x.total for x in scores]),
        red_lines=sum(x.red_line for x in scores),
        calls_query={**filters, **dates} if filters else {},
        evaluations_query=filters,
    )


def _order(rows: list[Ranked]) -> list[Ranked]:
    """Best mean score first; rows without a score last, by volume."""
    return sorted(
        rows,
        key=lambda r: (
            r.mean_score is None,
            -(r.mean_score or 0.0),
            -r.volume.received,
            r.name,
        ),
    )
