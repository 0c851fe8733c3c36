"""Auto-QA figures over 100 % of analysed calls (机器结果), by centre, team and agent.

One query path for ``qa autoqa summary`` (:mod:`scoring.services.autoqa_figures`) and the
machine section of every report snapshot (:mod:`scoring.reports.machine_section`). Each call
counts with its latest auto evaluation; these figures never mix with the random-stream
(sample-based) figures of the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallStatus
from storage.models import Call, Team, User
from storage.models_autoqa import AutoEvaluationRow

MACHINE_LABEL = "机器结果"
_BATCH = 5000


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
    a missing one)."""
    calls = session.execute(
        select(Call.id, Team.name, func.coalesce(Call.agent_code, User.agent_code, User.username))
        .outerjoin(Team, Team.id == Call.team_id)
        .outerjoin(User, User.id == Call.agent_id)
        .where(Call.status == CallStatus.ANALYSED, Call.started_at >= start, Call.started_at < end)
    ).all()
    latest = latest_results(session, [c[0] for c in calls])
    teams: dict[str, list[int]] = {}
    agents: dict[str, list[int]] = {}
    for call_id, team, agent in calls:
        teams.setdefault(team or no_team, []).append(call_id)
        agents.setdefault(agent or no_agent, []).append(call_id)
    return MachineGroups(
        figures("centre", [c[0] for c in calls], latest),
        tuple(figures(k, ids, latest) for k, ids in sorted(teams.items())),
        tuple(figures(k, ids, latest) for k, ids in sorted(agents.items())),
    )


def latest_results(
    session: Session, call_ids: Sequence[int]
) -> dict[int, tuple[float, bool, bool]]:
    """Per call, (total, passed, red line) of its latest auto evaluation."""
    out: dict[int, tuple[Any, tuple[float, bool, bool]]] = {}
    for start in range(0, len(call_ids), _BATCH):
        rows = session.execute(
            select(
                AutoEvaluationRow.call_id,
                AutoEvaluationRow.updated_at,
                AutoEvaluationRow.id,
                AutoEvaluationRow.total,
                AutoEvaluationRow.passed,
                AutoEvaluationRow.red_line,
            ).where(AutoEvaluationRow.call_id.in_(call_ids[start : start + _BATCH]))
        )
        for call_id, at, row_id, total, passed, red_line in rows:
            best = out.get(call_id)
            if best is None or (at, row_id) > best[0]:
                out[call_id] = ((at, row_id), (total, passed, red_line))
    return {cid: result for cid, (_k, result) in out.items()}


def figures(
    key: str, call_ids: Sequence[int], latest: Mapping[int, tuple[float, bool, bool]]
) -> AutoFigures:
    """The machine figures of one group of analysed calls."""
    results = [latest[c] for c in call_ids if c in latest]
    n = len(results)
    mean = round(sum(r[0] for r in results) / n, 2) if n else None
    rate = round(sum(1 for r in results if r[1]) / n, 4) if n else None
    return AutoFigures(key, len(call_ids), n, mean, rate, sum(1 for r in results if r[2]))


__all__ = [
    "MACHINE_LABEL",
    "AutoFigures",
    "MachineGroups",
    "figures",
    "latest_results",
    "machine_groups",
]
