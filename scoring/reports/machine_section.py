"""The machine section of a report snapshot (机器结果), stored with the snapshot.

Auto-QA over 100 % of the period's analysed calls (coverage, mean auto score, auto pass rate,
red-line suspects) by centre, team and agent; for a month or longer also the machine–human
agreement of the random stream (percent agreement, Cohen's kappa with its interval, confusion
counts, items below the centre's kappa threshold ``QA_AUTOQA_KAPPA_THRESHOLD``) and its trend
by month. Stored under ``payload["machine"]``, apart from the sample-based figures, so a
published snapshot never changes later; snapshots computed before this section existed have
no ``machine`` key (:data:`MISSING_NOTE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from scoring.reports.machine import MACHINE_LABEL, AutoFigures, machine_groups
from scoring.reports.metrics import NO_AGENT, NO_TEAM
from scoring.reports.periods import Period, ReportKind, period_for
from scoring.services.autoqa_agreement import agreement_between

MISSING_NOTE = "本报告生成时未包含机器结果"
AGREEMENT_KINDS = frozenset({ReportKind.MONTHLY, ReportKind.QUARTERLY, ReportKind.HALF_YEARLY})
TREND_MONTHS = 6  # the agreement trend: the months ending with the report's last month


def machine_section(s: Session, period: Period, tz: ZoneInfo, settings: Any) -> dict[str, Any]:
    """The 机器结果 section of the report of ``period``."""
    lo, hi = period.utc_bounds(tz)
    groups = machine_groups(s, lo, hi, NO_TEAM, NO_AGENT)
    section: dict[str, Any] = {
        "source": "machine",
        "label": MACHINE_LABEL,
        "basis": "all_analysed_calls",
        "centre": figures_row(groups.centre),
        "teams": [figures_row(t) for t in groups.teams],
        "agents": [figures_row(a) for a in groups.agents],
    }
    if period.kind in AGREEMENT_KINDS:
        section |= agreement_part(s, period, tz, settings)
    return section


def figures_row(figures: AutoFigures) -> dict[str, Any]:
    """A report row (keyed by ``name`` like the other report rows)."""
    data = figures.to_dict()
    return {"name": data.pop("key")} | data


def agreement_part(s: Session, period: Period, tz: ZoneInfo, settings: Any) -> dict[str, Any]:
    """The period's agreement table and the overall agreement of each recent month with data."""
    threshold = float(settings.autoqa_kappa_threshold)
    confidence = float(settings.report_confidence)
    lo, hi = period.utc_bounds(tz)
    table = agreement_between(s, lo, hi, period.label, threshold, confidence).to_dict()
    trend = []
    month = period_for(ReportKind.MONTHLY, period.end - timedelta(days=1))
    for _ in range(TREND_MONTHS):
        m_lo, m_hi = month.utc_bounds(tz)
        report = agreement_between(s, m_lo, m_hi, month.label, threshold, confidence)
        if report.overall.n:
            overall = report.overall.to_dict()
            overall.pop("code")
            trend.append({"period": month.label, **overall, "weak_items": len(report.weak_items)})
        month = month.previous()
    return {"agreement": table, "agreement_trend": trend[::-1]}


def reduced_for_agent(section: Mapping[str, Any] | None, own: str | None) -> dict[str, Any] | None:
    """What an agent sees of the machine section: the centre line and their own line."""
    if section is None:
        return None
    agents = [r for r in section.get("agents", []) if own and r.get("name") == own]
    keep = ("source", "label", "basis", "centre")
    return {k: section[k] for k in keep if k in section} | {"agents": agents}


__all__ = [
    "AGREEMENT_KINDS",
    "MISSING_NOTE",
    "TREND_MONTHS",
    "agreement_part",
    "figures_row",
    "machine_section",
    "reduced_for_agent",
]
