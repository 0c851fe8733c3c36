"""Auto-QA figures over 100 % of analysed calls, labelled 机器结果: ``qa autoqa summary``.

The queries are :mod:`scoring.reports.machine` (shared with the report snapshots)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from qa_platform.services.context import Platform
from scoring.reports.machine import MACHINE_LABEL, AutoFigures, machine_groups
from scoring.services.autoqa_agreement import parse_period


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
        groups = machine_groups(uow.session, start, end)
    return AutoSummary(period, groups.centre, groups.teams, groups.agents)


__all__ = [
    "MACHINE_LABEL",
    "AutoFigures",
    "AutoSummary",
    "machine_summary",
]
