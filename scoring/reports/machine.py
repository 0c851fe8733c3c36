"""Auto-QA figures over 100 % of analysed calls (机器结果), by centre, team and agent.

One query path for ``qa autoqa summary`` (:mod:`scoring.services.autoqa_figures`) and the
machine section of every report snapshot (:mod:`scoring.reports.machine_section`). Each call
counts with its latest auto evaluation; these figures never mix with the random-stream
(sample-based) figures of the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallStatus
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
        """Auto-evaluated calls / analysed calls (机器覆盖率)."""
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
class MachineGroups:
    """The centre's, each team's and each agent's machine figures of one period."""

    centre: AutoFigures
    teams: tuple[AutoFigures, ...]
    agents: tuple[AutoFigures, ...]


def machine_groups(
    session: Session,
    start: datetime,
    end: datetime,
    no_team: str = "-",
    no_agent: str = "-",
) -> MachineGroups:
    """Coverage, mean auto score, auto pass rate and red-line suspects of the calls analysed
    and started in [start, end), by centre, team and agent (``no_team`` and ``no_agent`` name
    a missing one). The database sums per (team, agent) cell: a half-year of calls never comes
    back row by row."""
    cells = [
        Cell(team or no_team, agent or no_agent, *sums)
        for team, agent, *sums in session.execute(cell_sums_stmt(start, end))
    ]
    teams: dict[str, list[Cell]] = {}
    agents: dict[str, list[Cell]] = {}
    for cell in cells:
        teams.setdefault(cell.team, []).append(cell)
        agents.setdefault(cell.agent, []).append(cell)
    return MachineGroups(
        figures("centre", cells),
        tuple(figures(k, group) for k, group in sorted(teams.items())),
        tuple(figures(k, group) for k, group in sorted(agents.items())),
    )


@dataclass(frozen=True, slots=True)
class Cell:
    """Sums of one (team, agent) cell: analysed calls, and over their latest auto evaluations
    the count, the sum of totals, the passed and the red-line ones."""

    team: str
    agent: str
    analysed: int
    judged: int
    total: float | None
    passed: int | None
    red_lines: int | None


def cell_sums_stmt(start: datetime, end: datetime) -> Any:
    """The SQL of the per-cell sums; each call counts with its latest auto evaluation (by
    ``updated_at``, then id)."""
    in_period = (
        (Call.status == CallStatus.ANALYSED) & (Call.started_at >= start) & (Call.started_at < end)
    )
    rank = func.row_number().over(
        partition_by=AutoEvaluationRow.call_id,
        order_by=(AutoEvaluationRow.updated_at.desc(), AutoEvaluationRow.id.desc()),
    )
    ranked = (
        select(
            AutoEvaluationRow.call_id,
            AutoEvaluationRow.total,
            AutoEvaluationRow.passed,
            AutoEvaluationRow.red_line,
            rank.label("rank"),
        )
        .join(Call, Call.id == AutoEvaluationRow.call_id)
        .where(in_period)
        .subquery()
    )
    latest = select(ranked).where(ranked.c.rank == 1).subquery()
    agent = func.coalesce(Call.agent_code, User.agent_code, User.username)
    return (
        select(
            Team.name,
            agent,
            func.count(Call.id),
            func.count(latest.c.call_id),
            func.sum(latest.c.total),
            func.sum(case((latest.c.passed, 1), else_=0)),
            func.sum(case((latest.c.red_line, 1), else_=0)),
        )
        .outerjoin(Team, Team.id == Call.team_id)
        .outerjoin(User, User.id == Call.agent_id)
        .outerjoin(latest, latest.c.call_id == Call.id)
        .where(in_period)
        .group_by(Team.name, agent)
    )


def figures(key: str, cells: Sequence[Cell]) -> AutoFigures:
    """The machine figures of a group of cells."""
    n = sum(c.judged for c in cells)
    total = sum(c.total or 0.0 for c in cells)
    passed = sum(c.passed or 0 for c in cells)
    mean = round(total / n, 2) if n else None
    rate = round(passed / n, 4) if n else None
    red = sum(c.red_lines or 0 for c in cells)
    return AutoFigures(key, sum(c.analysed for c in cells), n, mean, rate, red)


__all__ = [
    "MACHINE_LABEL",
    "AutoFigures",
    "Cell",
    "MachineGroups",
    "cell_sums_stmt",
    "figures",
    "machine_groups",
]
