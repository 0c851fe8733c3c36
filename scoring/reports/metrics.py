"""Quality-report metrics (品质日报/周报/月报指标) as pure functions over plain rows.

No database here: ``scoring.reports.queries`` aggregates the big tables (calls, flags, item
scores) in SQL into the small count rows below, and loads one ``EvaluationFact`` per evaluation
(the inspected sample); the interval and correlation maths is in ``scoring.reports.statistics``.
Every formula is written in ``docs/metrics.md`` next to its clause of the standard
(T/IAC «保险公司客户服务中心基本要求», 7.5.2 c, 7.5.3 and Appendix A).

Two streams never mix: quality KPIs (mean score and its confidence interval, pass rate,
红线, 业务准确率, 合规准确率, 评价一致率) come from the random stream only; the targeted stream
(flagged calls, 专项质检) is counted apart. An undefined figure (nothing to divide by, too few
points for an interval or a correlation) is ``None``, never a misleading 0.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qa_platform.domain.calls import SATISFIED_FROM
from scoring.reports.statistics import MetricsError, mean_ci, pearson, ratio, spearman, wilson

RANDOM = "random"
TARGETED = "targeted"
CENTRE = "全中心"
NO_TEAM = "(无班组)"
NO_AGENT = "(未知坐席)"
NO_BUSINESS_TYPE = "(未分类)"
SCORE_BINS = tuple(range(0, 101, 10))
DIGITS = 6


# --------------------------------------------------------------------------------------
# Input rows


@dataclass(frozen=True)
class CallCount:
    """Calls of one (team, agent, business type) cell: received, analysed, flagged (any type)."""

    team: str
    agent: str
    business_type: str
    received: int
    analysed: int
    flagged: int = 0
    rated: int = 0  # calls whose customer gave a valid rating (survey or ingest metadata)
    satisfied: int = 0  # of those, rated 4 or 5


@dataclass(frozen=True)
class FlagCount:
    """Calls of one cell that carry at least one flag of ``flag_type``, and the flags' number."""

    team: str
    agent: str
    business_type: str
    flag_type: str
    calls: int
    flags: int


@dataclass(frozen=True)
class EvaluationFact:
    """One published evaluation (质检评价) in its current version, with its call's context."""

    evaluation_id: int
    call_id: int
    stream: str
    team: str
    agent: str
    business_type: str
    inspector: str
    total: float
    passed: bool
    red_lines: int
    business_error: bool
    compliance_error: bool
    state: str = "final"
    appealed: bool = False
    appeal_decision: str | None = None  # upheld | revised | None (undecided or no appeal)
    satisfaction: int | None = None


@dataclass(frozen=True)
class ItemCount:
    """One scorecard item over the random-stream evaluations of the period (评分项)."""

    item_code: str
    title: str
    category: str
    red_line: bool
    rated: int  # applicable results (not N/A)
    na: int
    failed: int  # lost points, or red line violated
    earned: float
    possible: float


@dataclass(frozen=True)
class InspectorAgreement:
    """An inspector's agreement with the reference in calibration sessions (校准)."""

    inspector: str
    sessions: int
    scored: int
    agreement_rate: float | None
    kappa: float | None
    mean_abs_deviation: float | None


# --------------------------------------------------------------------------------------
# Groups

Key = Callable[[Any], str]
DIMENSIONS: dict[str, Key] = {
    "centre": lambda r: CENTRE,
    "team": lambda r: r.team,
    "agent": lambda r: r.agent,
    "business_type": lambda r: r.business_type,
}


def natural_key(name: str) -> list[Any]:
    """Sort key that orders 2组 before 10组 (numbers inside names compare as numbers)."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)
    ]


def _group(rows: Iterable[Any], key: Key) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def volume_metrics(calls: Sequence[CallCount], flags: Sequence[FlagCount]) -> dict[str, Any]:
    """Calls received and analysed, flagged calls and flagged calls by type (异常监控)."""
    received = sum(c.received for c in calls)
    analysed = sum(c.analysed for c in calls)
    flagged = sum(c.flagged for c in calls)
    by_type: dict[str, int] = defaultdict(int)
    for f in flags:
        by_type[f.flag_type] += f.calls
    rated = sum(c.rated for c in calls)
    satisfied = sum(c.satisfied for c in calls)
    return {
        "calls_received": received,
        "calls_analysed": analysed,
        "flagged_calls": flagged,
        "flagged_rate": ratio(flagged, analysed),
        "flagged_by_type": dict(sorted(by_type.items())),
        # A.1 客户满意度: every customer who gave a valid rating, inspected or not
        "customers_rated": rated,
        "customers_satisfied": satisfied,
        "customer_satisfaction_rate": ratio(satisfied, rated),
    }


def quality_metrics(
    evaluations: Sequence[EvaluationFact], population: int | None, confidence: float = 0.95
) -> dict[str, Any]:
    """KPIs of the random stream: sample, coverage, mean score ± CI, pass rate, red lines, accuracy."""
    sample = [e for e in evaluations if e.stream == RANDOM]
    n = len(sample)
    score = mean_ci([e.total for e in sample], population, confidence)
    passed = wilson(sum(e.passed for e in sample), n, confidence)
    return {
        "sample_size": n,
        "coverage": ratio(n, population or 0),
        "mean_score": score.estimate,
        "mean_score_ci_low": score.low,
        "mean_score_ci_high": score.high,
        "pass_rate": passed.estimate,
        "pass_rate_ci_low": passed.low,
        "pass_rate_ci_high": passed.high,
        "red_lines": sum(e.red_lines for e in sample),
        "red_line_calls": sum(e.red_lines > 0 for e in sample),
        "business_accuracy": ratio(sum(not e.business_error for e in sample), n),
        "compliance_accuracy": ratio(sum(not e.compliance_error for e in sample), n),
    }


def targeted_metrics(evaluations: Sequence[EvaluationFact]) -> dict[str, Any]:
    """The targeted stream (专项质检) counted apart: never mixed into the KPIs above."""
    targeted = [e for e in evaluations if e.stream == TARGETED]
    return {
        "targeted_evaluations": len(targeted),
        "targeted_mean_score": float(np.mean([e.total for e in targeted])) if targeted else None,
        "targeted_red_lines": sum(e.red_lines for e in targeted),
    }


def appeal_metrics(evaluations: Sequence[EvaluationFact]) -> dict[str, Any]:
    """Appeal rate (申诉率) over published evaluations; overturn rate (改判率) over decided appeals."""
    appealed = sum(e.appealed for e in evaluations)
    decided = sum(e.appeal_decision is not None for e in evaluations)
    revised = sum(e.appeal_decision == "revised" for e in evaluations)
    return {
        "published_evaluations": len(evaluations),
        "appeals": appealed,
        "appeal_rate": ratio(appealed, len(evaluations)),
        "appeals_decided": decided,
        "appeals_revised": revised,
        "overturn_rate": ratio(revised, decided),
    }


def satisfaction_metrics(
    evaluations: Sequence[EvaluationFact], satisfied_from: int = SATISFIED_FROM
) -> dict[str, Any]:
    """客户满意度 and 评价一致率 over random-stream evaluations whose call has a satisfaction score.

    Consistent (一致) = no business error and satisfied, or a business error and not satisfied.
    """
    rated = [e for e in evaluations if e.stream == RANDOM and e.satisfaction is not None]
    satisfied = [e for e in rated if _satisfied(e, satisfied_from)]
    consistent = [e for e in rated if (not e.business_error) == _satisfied(e, satisfied_from)]
    return {
        "satisfaction_rated": len(rated),
        "satisfaction_rate": ratio(len(satisfied), len(rated)),
        "consistent": len(consistent),
        "consistency_rate": ratio(len(consistent), len(rated)),
    }


def _satisfied(e: EvaluationFact, satisfied_from: int) -> bool:
    return e.satisfaction is not None and e.satisfaction >= satisfied_from


def group_row(
    name: str,
    calls: Sequence[CallCount],
    flags: Sequence[FlagCount],
    evaluations: Sequence[EvaluationFact],
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Every metric of one group (centre, a team, an agent or a business type)."""
    volume = volume_metrics(calls, flags)
    return (
        {"name": name}
        | volume
        | quality_metrics(evaluations, volume["calls_analysed"], confidence)
        | targeted_metrics(evaluations)
        | appeal_metrics(evaluations)
        | satisfaction_metrics(evaluations)
    )


def dimension_rows(
    dimension: str,
    calls: Sequence[CallCount],
    flags: Sequence[FlagCount],
    evaluations: Sequence[EvaluationFact],
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """One row per value of ``dimension`` (centre | team | agent | business_type), sorted."""
    if dimension not in DIMENSIONS:
        raise MetricsError(f"dimension {dimension!r} must be one of {sorted(DIMENSIONS)}")
    key = DIMENSIONS[dimension]
    by_calls, by_flags, by_evals = _group(calls, key), _group(flags, key), _group(evaluations, key)
    names = sorted(set(by_calls) | set(by_evals), key=natural_key)
    rows = [
        group_row(n, by_calls.get(n, []), by_flags.get(n, []), by_evals.get(n, []), confidence)
        for n in names
    ]
    if dimension == "agent":
        teams = {c.agent: c.team for c in calls} | {e.agent: e.team for e in evaluations}
        rows = [{"team": teams.get(r["name"], NO_TEAM)} | r for r in rows]
    return rows


# --------------------------------------------------------------------------------------
# Items, flags, inspectors, consistency


def item_rows(items: Sequence[ItemCount]) -> list[dict[str, Any]]:
    """Scorecard items ranked by failure rate (评分项失分排名), worst first."""
    rows: list[dict[str, Any]] = [
        {
            "item_code": i.item_code,
            "title": i.title,
            "category": i.category,
            "red_line": i.red_line,
            "rated": i.rated,
            "na": i.na,
            "failed": i.failed,
            "failure_rate": ratio(i.failed, i.rated),
            "score_rate": None if i.red_line else ratio(i.earned, i.possible),
        }
        for i in _merge_items(items)
    ]
    rows.sort(key=lambda r: (-float(r["failure_rate"] or 0.0), -int(r["failed"]), r["item_code"]))
    return [r | {"rank": n} for n, r in enumerate(rows, start=1)]


def _merge_items(items: Sequence[ItemCount]) -> list[ItemCount]:
    """Sum rows of the same item code (e.g. the same item in two scorecard versions)."""
    merged: dict[str, ItemCount] = {}
    for i in items:
        old = merged.get(i.item_code)
        if old is None:
            merged[i.item_code] = i
            continue
        merged[i.item_code] = ItemCount(
            i.item_code,
            old.title or i.title,
            old.category,
            old.red_line or i.red_line,
            old.rated + i.rated,
            old.na + i.na,
            old.failed + i.failed,
            old.earned + i.earned,
            old.possible + i.possible,
        )
    return list(merged.values())


def flag_type_rows(flags: Sequence[FlagCount], calls_analysed: int) -> list[dict[str, Any]]:
    """Flagged calls per flag type with their share of analysed calls, most frequent first."""
    calls: dict[str, int] = defaultdict(int)
    occurrences: dict[str, int] = defaultdict(int)
    for f in flags:
        calls[f.flag_type] += f.calls
        occurrences[f.flag_type] += f.flags
    rows = [
        {
            "flag_type": t,
            "calls": calls[t],
            "flags": occurrences[t],
            "share": ratio(calls[t], calls_analysed),
        }
        for t in calls
    ]
    return sorted(rows, key=lambda r: (-r["calls"], r["flag_type"]))


def inspector_rows(
    evaluations: Sequence[EvaluationFact], agreements: Sequence[InspectorAgreement] = ()
) -> list[dict[str, Any]]:
    """Inspector workload (质检工作量), appeals overturned on their work, calibration agreement."""
    by_inspector = _group(evaluations, lambda e: e.inspector)
    agree = {a.inspector: a for a in agreements}
    rows = []
    for name in sorted(set(by_inspector) | set(agree)):
        evs = by_inspector.get(name, [])
        a = agree.get(name)
        appeals = appeal_metrics(evs)
        rows.append(
            {
                "name": name,
                "evaluations": len(evs),
                "random": sum(e.stream == RANDOM for e in evs),
                "targeted": sum(e.stream == TARGETED for e in evs),
                "mean_score_given": float(np.mean([e.total for e in evs])) if evs else None,
                "appeals": appeals["appeals"],
                "appeals_revised": appeals["appeals_revised"],
                "overturn_rate": appeals["overturn_rate"],
                "calibration_sessions": a.sessions if a else 0,
                "calibration_agreement": a.agreement_rate if a else None,
                "calibration_kappa": a.kappa if a else None,
                "calibration_mad": a.mean_abs_deviation if a else None,
            }
        )
    return rows


def consistency_analysis(
    evaluations: Sequence[EvaluationFact], satisfied_from: int = SATISFIED_FROM
) -> dict[str, Any]:
    """7.5.3 a/b: 评价一致率 and the correlation of business accuracy with satisfaction.

    Call level: x = 1 when the call had no business error, y = its satisfaction (1–5).
    Agent level: x = the agent's 业务准确率, y = the agent's 客户满意度, over rated calls.
    """
    rated = [e for e in evaluations if e.stream == RANDOM and e.satisfaction is not None]
    x = [0.0 if e.business_error else 1.0 for e in rated]
    y = [float(e.satisfaction or 0) for e in rated]
    agents = _group(rated, lambda e: e.agent)
    ax = [sum(not e.business_error for e in v) / len(v) for v in agents.values()]
    ay = [sum(_satisfied(e, satisfied_from) for e in v) / len(v) for v in agents.values()]
    return satisfaction_metrics(evaluations, satisfied_from) | {
        "satisfied_from": satisfied_from,
        "call_pairs": len(rated),
        "call_pearson": pearson(x, y),
        "call_spearman": spearman(x, y),
        "agent_pairs": len(agents),
        "agent_pearson": pearson(ax, ay),
        "agent_spearman": spearman(ax, ay),
    }


def score_histogram(evaluations: Sequence[EvaluationFact]) -> list[dict[str, Any]]:
    """Random-stream scores in bins of 10 points: [0,10), …, [90,100] (the last one closed)."""
    counts = [0] * (len(SCORE_BINS) - 1)
    for e in evaluations:
        if e.stream == RANDOM:
            counts[min(int(e.total // 10), len(counts) - 1)] += 1
    return [
        {"low": lo, "high": hi, "count": c}
        for lo, hi, c in zip(SCORE_BINS[:-1], SCORE_BINS[1:], counts, strict=True)
    ]


# --------------------------------------------------------------------------------------
# The whole report


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report is computed from (already restricted to one period)."""

    calls: Sequence[CallCount]
    flags: Sequence[FlagCount]
    evaluations: Sequence[EvaluationFact]
    items: Sequence[ItemCount] = ()
    agreements: Sequence[InspectorAgreement] = ()
    confidence: float = 0.95
    satisfied_from: int = SATISFIED_FROM
    extra: Mapping[str, Any] = field(default_factory=dict)


def compute_metrics(inputs: ReportInputs) -> dict[str, Any]:
    """All sections of a report: centre, teams, agents, business types, items, flags, inspectors."""
    c = inputs.confidence
    args = (inputs.calls, inputs.flags, inputs.evaluations)
    centre = dimension_rows("centre", *args, c)
    centre_row = centre[0] if centre else group_row(CENTRE, [], [], [], c)
    return rounded(
        {
            "confidence": c,
            "centre": centre_row,
            "teams": dimension_rows("team", *args, c),
            "agents": dimension_rows("agent", *args, c),
            "business_types": dimension_rows("business_type", *args, c),
            "items": item_rows(inputs.items),
            "flag_types": flag_type_rows(inputs.flags, centre_row["calls_analysed"]),
            "inspectors": inspector_rows(inputs.evaluations, inputs.agreements),
            "consistency": consistency_analysis(inputs.evaluations, inputs.satisfied_from),
            "score_histogram": score_histogram(inputs.evaluations),
        }
    )


def rounded(value: Any, digits: int = DIGITS) -> Any:
    """Round every float in a nested structure (so recomputes compare equal, not by noise)."""
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, digits)
    if isinstance(value, Mapping):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v, digits) for v in value]
    return value


def aggregate_calls(
    calls: Iterable[tuple[Any, ...]],
) -> tuple[list[CallCount], list[FlagCount]]:
    """Aggregate per-call tuples (team, agent, business type, analysed?, flag types[, rating])
    into counts.

    The database does the same in SQL (``scoring.reports.queries``); this is for small inputs.
    """
    cells: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    flag_cells: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for team, agent, btype, analysed, types, *rating in calls:
        cell = cells[(team, agent, btype)]
        types = list(types)
        cell[0] += 1
        cell[1] += int(analysed)
        cell[2] += int(bool(types))
        if rating and rating[0] is not None:  # an optional sixth field: the call's rating
            cell[3] += 1
            cell[4] += int(rating[0] >= SATISFIED_FROM)
        for t in sorted(set(types)):
            flag_cells[(team, agent, btype, t)][0] += 1
            flag_cells[(team, agent, btype, t)][1] += types.count(t)
    counts = [CallCount(*k, *v) for k, v in sorted(cells.items())]
    flags = [FlagCount(*k, *v) for k, v in sorted(flag_cells.items())]
    return counts, flags
