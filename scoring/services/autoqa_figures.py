"""Auto-QA figures over 100 % of analysed calls, labelled 机器结果: ``qa autoqa summary``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallStatus
from qa_platform.services.context import Platform
from scoring.services.autoqa_agreement import parse_period
from storage.models import Call, Team, User
from storage.models_autoqa import AutoEvaluationRow

MACHINE_LABEL = "机器结果"


@dataclass(frozen=True, slots=True)
class AutoFigures:
    """Machine figures of a group of calls (the centre, a team, an agent) over 100 % of them."""

    key: str
    analysed: int
    judged: int
    mean_total: float | None
    pass_rate: float | None
    red_line_suspects: int

    @property
    def coverage(self) -> float | None:
        return round(self.judged / self.analysed, 4) if self.analysed else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "analysed": self.analysed,
            "judged": self.judged,
            "coverage": self.coverage,
            "mean_total": self.mean_total,
            "pass_rate": self.pass_rate,
            "red_line_suspects": self.red_line_suspects,
        }


@dataclass(frozen=True, slots=True)
class AutoSummary:
    """Auto-QA figures of a month, labelled 机器结果 and kept apart from the sample's figures."""

    period: str
    centre: AutoFigures
    teams: tuple[AutoFigures, ...]
    agents: tuple[AutoFigures, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "source": "machine",
            "label": MACHINE_LABEL,
            "centre": self.centre.to_dict(),
            "teams": [t.to_dict() for t in self.teams],
            "agents": [a.to_dict() for a in self.agents],
        }


def machine_summary(platform: Platform, period: str) -> AutoSummary:
    """Coverage, mean auto score, auto pass rate and red-line suspects of the analysed calls
    started in ``period`` (YYYY-MM, centre time zone), by centre, team and agent; each call
    counts with its latest auto evaluation."""
    start, end = parse_period(period, ZoneInfo(platform.settings.centre_timezone))
    with platform.uow() as uow:
        calls = uow.session.execute(
            select(
                Call.id, Team.name, func.coalesce(Call.agent_code, User.agent_code, User.username)
            )
            .outerjoin(Team, Team.id == Call.team_id)
            .outerjoin(User, User.id == Call.agent_id)
            .where(
                Call.status == CallStatus.ANALYSED, Call.started_at >= start, Call.started_at < end
            )
        ).all()
        latest = _latest_results(uow.session, [c[0] for c in calls])
    groups: dict[str, dict[str, list[int]]] = {"team": {}, "agent": {}}
    for call_id, team, agent in calls:
        groups["team"].setdefault(team or "-", []).append(call_id)
        groups["agent"].setdefault(agent or "-", []).append(call_id)
    centre = _figures("centre", [c[0] for c in calls], latest)
    teams = tuple(_figures(k, ids, latest) for k, ids in sorted(groups["team"].items()))
    agents = tuple(_figures(k, ids, latest) for k, ids in sorted(groups["agent"].items()))
    return AutoSummary(period, centre, teams, agents)


def _latest_results(
    session: Session, call_ids: Sequence[int]
) -> dict[int, tuple[float, bool, bool]]:
    """Per call, (total, passed, red line) of its latest auto evaluation."""
    out: dict[int, tuple[Any, tuple[float, bool, bool]]] = {}
    for start in range(0, len(call_ids), 5000):
        rows = session.execute(
            select(
                AutoEvaluationRow.call_id,
                AutoEvaluationRow.updated_at,
                AutoEvaluationRow.id,
                AutoEvaluationRow.total,
                AutoEvaluationRow.passed,
                AutoEvaluationRow.red_line,
            ).where(AutoEvaluationRow.call_id.in_(call_ids[start : start + 5000]))
        )
        for call_id, at, row_id, total, passed, red_line in rows:
            best = out.get(call_id)
            if best is None or (at, row_id) > best[0]:
                out[call_id] = ((at, row_id), (total, passed, red_line))
    return {cid: result for cid, (_k, result) in out.items()}


def _figures(
    key: str, call_ids: Sequence[int], latest: Mapping[int, tuple[float, bool, bool]]
) -> AutoFigures:
    results = [latest[c] for c in call_ids if c in latest]
    n = len(results)
    mean = round(sum(r[0] for r in results) / n, 2) if n else None
    rate = round(sum(1 for r in results if r[1]) / n, 4) if n else None
    return AutoFigures(key, len(call_ids), n, mean, rate, sum(1 for r in results if r[2]))


__all__ = [
    "MACHINE_LABEL",
    "AutoFigures",
    "AutoSummary",
    "machine_summary",
]
