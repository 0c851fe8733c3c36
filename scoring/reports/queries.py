"""Loads a period's report inputs from the database, aggregating the big tables in SQL.

Calls (millions a month), flags and item scores are grouped by the database into the small
count rows of ``scoring.reports.metrics``; only the inspected sample (one ``EvaluationFact``
per published evaluation, its current version) comes back row by row, because the confidence
interval, the ranks of Spearman's ρ and the consistency analysis need each score.

A call belongs to the period in which it started (centre time). Evaluations count once their
result is published (states published, appealed, final), in their current version.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, and_, case, cast, distinct, func, select, text
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallStatus
from scoring.calibration import CalibrationError, analyse_session
from scoring.reports.metrics import (
    NO_AGENT,
    NO_BUSINESS_TYPE,
    NO_TEAM,
    CallCount,
    EvaluationFact,
    FlagCount,
    InspectorAgreement,
    ItemCount,
    ReportInputs,
)
from scoring.reports.periods import Period
from scoring.services.calibration import session_scores
from storage import rollups
from storage.models import Call, CallFlag, Team, User
from storage.models_rollups import DailyCallRollup, DailyFlagRollup
from storage.models_scoring import (
    AppealRow,
    CalibrationSessionRow,
    EvaluationRow,
    EvaluationVersionRow,
    ItemScoreRow,
    ScorecardRow,
)

PUBLISHED_STATES = ("published", "appealed", "final")
SCALE = 10_000
BUSINESS = "business_accuracy"
COMPLIANCE = "compliance"


@dataclass
class LoadedPeriod:
    """The inputs of one period plus what the snapshot records about them."""

    inputs: ReportInputs
    versions: dict[str, Any] = field(default_factory=dict)
    pending: int = 0  # evaluations whose result can still change (unpublished, window open)


RAW_CELL = (Call.team_id, Call.agent_id, Call.agent_code, Call.business_type)


@dataclass(frozen=True)
class Names:
    """Team names and agents' 工号 by id: the big queries group by ids, labels come after."""

    teams: dict[int, str]
    agent_codes: dict[int, str]
    usernames: dict[int, str]

    @classmethod
    def load(cls, s: Session) -> Names:
        users = s.execute(select(User.id, User.username, User.agent_code)).all()
        return cls(
            dict(s.execute(select(Team.id, Team.name)).all()),
            {uid: code for uid, _name, code in users if code},
            {uid: name for uid, name, _code in users},
        )

    def cell(
        self, team_id: Any, agent_id: Any, agent_code: Any, btype: Any
    ) -> tuple[str, str, str]:
        """(team, agent, business type) labels of a call, placeholders for blanks."""
        agent = agent_code or self.agent_codes.get(agent_id) or NO_AGENT
        return self.teams.get(team_id, NO_TEAM), agent, btype or NO_BUSINESS_TYPE


def _in_period(lo: datetime, hi: datetime) -> Any:
    return and_(Call.started_at >= lo, Call.started_at < hi)


def call_counts_stmt(lo: datetime, hi: datetime) -> Any:
    """The SQL of the received/analysed/flagged counts per raw cell (benchmarks EXPLAIN it)."""
    analysed = func.sum(case((Call.status == str(CallStatus.ANALYSED), 1), else_=0))
    flagged = func.sum(case((Call.id.in_(select(CallFlag.call_id)), 1), else_=0))
    rated, satisfied = rollups.satisfaction_sums()
    return (
        select(*RAW_CELL, func.count(), analysed, flagged, rated, satisfied)
        .where(_in_period(lo, hi))
        .group_by(*RAW_CELL)
    )


def _add_counts(
    cells: dict[tuple[str, str, str], list[int]], names: Names, rows: Iterable[Any]
) -> list[CallCount]:
    """Sum (cell…, received, analysed, flagged, rated, satisfied) rows into named cells."""
    for team, agent_id, code, btype, *counts in rows:
        cell = cells[names.cell(team, agent_id, code, btype)]
        for i, value in enumerate(counts):
            cell[i] += int(value or 0)
    return [CallCount(*key, *value) for key, value in sorted(cells.items())]


def _cells() -> dict[tuple[str, str, str], list[int]]:
    return defaultdict(lambda: [0, 0, 0, 0, 0])


def load_call_counts(s: Session, lo: datetime, hi: datetime, names: Names) -> list[CallCount]:
    """Received, analysed, flagged and rated calls per (team, agent, business type), in SQL."""
    return _add_counts(_cells(), names, s.execute(call_counts_stmt(lo, hi)))


def load_flag_counts(
    s: Session, lo: datetime, hi: datetime, names: Names
) -> tuple[list[FlagCount], list[str]]:
    """Calls and flags per (cell, flag type), grouped in SQL; and the rule-set versions seen."""
    stmt = flag_counts_stmt(lo, hi)
    cells: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    rule_sets: set[str] = set()
    for team, agent_id, code, btype, ftype, rules, calls, flags in s.execute(stmt):
        cell = cells[(*names.cell(team, agent_id, code, btype), ftype)]
        cell[0] += int(calls)
        cell[1] += int(flags)
        rule_sets.add(rules)
    return [FlagCount(*k, *v) for k, v in sorted(cells.items())], sorted(rule_sets)


def flag_counts_stmt(lo: datetime, hi: datetime) -> Any:
    """The SQL of the calls and flags per (raw cell, flag type, rule-set version)."""
    return (
        select(
            *RAW_CELL,
            CallFlag.type,
            CallFlag.rule_set_version,
            func.count(distinct(CallFlag.call_id)),
            func.count(),
        )
        .select_from(CallFlag)
        .join(Call, Call.id == CallFlag.call_id)
        .where(_in_period(lo, hi))
        .group_by(*RAW_CELL, CallFlag.type, CallFlag.rule_set_version)
    )


def load_rollup_counts(
    s: Session, period: Period, names: Names
) -> tuple[list[CallCount], list[FlagCount], list[str]]:
    """The same call and flag counts as the raw queries, summed from the daily roll-ups (日汇总).

    Only valid when ``storage.rollups.covers`` the period: every one of its days is counted."""
    r, f = DailyCallRollup, DailyFlagRollup
    in_days = (r.day >= period.start, r.day < period.end)
    cell = (r.team_id, r.agent_id, r.agent_code, r.business_type)
    sums = (r.received, r.analysed, r.flagged, r.rated, r.satisfied)
    stmt = select(*cell, *(func.sum(c) for c in sums))
    call_counts = _add_counts(_cells(), names, s.execute(stmt.where(*in_days).group_by(*cell)))
    fcell = (f.team_id, f.agent_id, f.agent_code, f.business_type)
    fstmt = (
        select(*fcell, f.flag_type, f.rule_set_version, func.sum(f.calls), func.sum(f.flags))
        .where(f.day >= period.start, f.day < period.end)
        .group_by(*fcell, f.flag_type, f.rule_set_version)
    )
    flags: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    rule_sets: set[str] = set()
    for team, agent_id, code, btype, ftype, rules, n_calls, n_flags in s.execute(fstmt):
        counts = flags[(*names.cell(team, agent_id, code, btype), ftype)]
        counts[0] += int(n_calls)
        counts[1] += int(n_flags)
        rule_sets.add(rules)
    return (
        call_counts,
        [FlagCount(*k, *v) for k, v in sorted(flags.items())],
        sorted(rule_sets),
    )


def load_volume(
    s: Session, period: Period, tz: ZoneInfo, names: Names, use_rollup: bool = True
) -> tuple[list[CallCount], list[FlagCount], list[str]]:
    """Call and flag counts of the period: from the roll-up when it covers the period, else raw."""
    if use_rollup and rollups.covers(s, tz.key, period.start):
        return load_rollup_counts(s, period, names)
    lo, hi = period.utc_bounds(tz)
    flags, rule_sets = load_flag_counts(s, lo, hi, names)
    return load_call_counts(s, lo, hi, names), flags, rule_sets


def _current_version_join() -> Any:
    return and_(
        EvaluationVersionRow.evaluation_id == EvaluationRow.id,
        EvaluationVersionRow.number == EvaluationRow.current_version,
    )


def load_evaluations(
    s: Session, lo: datetime, hi: datetime, names: Names
) -> tuple[list[EvaluationFact], list[Any]]:
    """Published evaluations of the period's calls (current version) and their version ids.

    Red lines and category errors are read out of the JSON columns by the database."""
    errors = EvaluationVersionRow.category_errors
    appeals = _appeal_outcomes(s, lo, hi)
    stmt = (
        select(
            EvaluationRow.id,
            EvaluationRow.call_id,
            EvaluationRow.stream,
            *RAW_CELL,
            EvaluationRow.inspector_id,
            EvaluationVersionRow.total,
            EvaluationVersionRow.passed,
            func.json_array_length(EvaluationVersionRow.red_line_violations),
            errors[BUSINESS].as_boolean(),
            errors[COMPLIANCE].as_boolean(),
            EvaluationRow.state,
            Call.satisfaction,
            EvaluationVersionRow.id,
            EvaluationVersionRow.scorecard_id,
        )
        .select_from(EvaluationRow)
        .join(Call, Call.id == EvaluationRow.call_id)
        .join(EvaluationVersionRow, _current_version_join())
        .where(_in_period(lo, hi), EvaluationRow.state.in_(PUBLISHED_STATES))
        .order_by(EvaluationRow.id)
    )
    facts, versions = [], []
    for row in s.execute(stmt):
        facts.append(_fact(row, names, appeals.get(row[0])))
        versions.append((row[15], row[16]))
    return facts, versions


def _fact(row: Any, names: Names, appeal: tuple[bool, str | None] | None) -> EvaluationFact:
    eid, call_id, stream, team_id, agent_id, code, btype, insp, total, passed = row[:10]
    red, business_error, compliance_error, state, sat = row[10:15]
    appealed, decision = appeal or (False, None)
    return EvaluationFact(
        eid,
        call_id,
        stream,
        *names.cell(team_id, agent_id, code, btype),
        names.usernames.get(insp, str(insp)),
        float(total),
        bool(passed),
        int(red or 0),
        bool(business_error),
        bool(compliance_error),
        state,
        appealed,
        decision,
        sat,
    )


def _appeal_outcomes(s: Session, lo: datetime, hi: datetime) -> dict[int, tuple[bool, str | None]]:
    """Per evaluation: appealed, and the decision of its latest appeal (None while undecided)."""
    stmt = (
        select(AppealRow.evaluation_id, AppealRow.number, AppealRow.decision)
        .join(EvaluationRow, EvaluationRow.id == AppealRow.evaluation_id)
        .join(Call, Call.id == EvaluationRow.call_id)
        .where(_in_period(lo, hi))
        .order_by(AppealRow.evaluation_id, AppealRow.number)
    )
    return {eid: (True, decision) for eid, _n, decision in s.execute(stmt)}


def _exact(points: Any) -> Any:
    return cast(func.round(points * SCALE), BigInteger)


def load_item_counts(s: Session, lo: datetime, hi: datetime) -> list[ItemCount]:
    """Per scorecard item over the random stream's current versions, aggregated in SQL."""
    applicable = ~ItemScoreRow.na
    failed = case(
        (ItemScoreRow.violated, 1),
        (and_(applicable, ItemScoreRow.score < ItemScoreRow.max_points), 1),
        else_=0,
    )
    stmt = (
        select(
            EvaluationVersionRow.scorecard_id,
            ItemScoreRow.item_code,
            ItemScoreRow.category,
            func.sum(case((applicable, 1), else_=0)),
            func.sum(case((applicable, 0), else_=1)),
            func.sum(failed),
            # integer sums (points × 10⁴): a float sum depends on the (parallel) order of addition
            func.sum(_exact(case((applicable, func.coalesce(ItemScoreRow.score, 0.0)), else_=0.0))),
            func.sum(_exact(case((applicable, ItemScoreRow.max_points), else_=0.0))),
        )
        .select_from(ItemScoreRow)
        .join(EvaluationVersionRow, EvaluationVersionRow.id == ItemScoreRow.version_id)
        .join(EvaluationRow, _current_version_join())
        .join(Call, Call.id == EvaluationRow.call_id)
        .where(
            _in_period(lo, hi),
            EvaluationRow.state.in_(PUBLISHED_STATES),
            EvaluationRow.stream == "random",
        )
        .group_by(EvaluationVersionRow.scorecard_id, ItemScoreRow.item_code, ItemScoreRow.category)
    )
    rows = s.execute(stmt).all()
    meta = _item_meta(s, {r[0] for r in rows})
    counts = []
    for card, code, cat, rated, na, failed_n, earned, possible in rows:
        title, red_line = meta.get((card, code), (code, False))
        counts.append(
            ItemCount(
                code,
                title,
                cat,
                red_line,
                int(rated or 0),
                int(na or 0),
                int(failed_n or 0),
                int(earned or 0) / SCALE,
                int(possible or 0) / SCALE,
            )
        )
    return counts


def _item_meta(s: Session, card_ids: Iterable[int]) -> dict[tuple[int, str], tuple[str, bool]]:
    """(scorecard id, item code) → (title, red line?) from the stored scorecard definitions."""
    meta: dict[tuple[int, str], tuple[str, bool]] = {}
    for card in s.scalars(select(ScorecardRow).where(ScorecardRow.id.in_(list(card_ids)))):
        for section in card.definition.get("sections", []):
            for item in section.get("items", []):
                meta[(card.id, item["code"])] = (
                    item.get("title", item["code"]),
                    bool(item.get("red_line")),
                )
    return meta


def load_agreements(s: Session, lo: datetime, hi: datetime) -> list[InspectorAgreement]:
    """Calibration agreement per inspector over the sessions opened in the period."""
    sessions = s.scalars(
        select(CalibrationSessionRow).where(
            CalibrationSessionRow.created_at >= lo, CalibrationSessionRow.created_at < hi
        )
    ).all()
    names = dict(s.execute(select(User.id, User.username)).all()) if sessions else {}
    per: dict[str, list[Any]] = defaultdict(list)
    for session in sessions:
        for deviation in _session_deviations(s, session.id):
            per[names.get(deviation.inspector_id, str(deviation.inspector_id))].append(deviation)
    return [_agreement(name, devs) for name, devs in sorted(per.items())]


def _session_deviations(s: Session, session_id: int) -> list[Any]:
    scores, reference = session_scores(s, session_id)
    try:
        return list(analyse_session(scores, reference or None).inspectors)
    except CalibrationError:
        return []  # a session nobody has scored yet


def _agreement(name: str, devs: list[Any]) -> InspectorAgreement:
    scored = sum(d.scored for d in devs)
    kappas = [d.kappa_vs_reference for d in devs if d.kappa_vs_reference is not None]
    return InspectorAgreement(
        name,
        len(devs),
        scored,
        sum(d.agreement_rate * d.scored for d in devs) / scored if scored else None,
        sum(kappas) / len(kappas) if kappas else None,
        sum(d.mean_abs_deviation * d.scored for d in devs) / scored if scored else None,
    )


def count_pending(s: Session, lo: datetime, hi: datetime, now: datetime) -> int:
    """Evaluations of the period whose result can still change: not yet published, appealed,
    or published with the appeal window still open."""
    window_open = and_(EvaluationRow.state == "published", EvaluationRow.appeal_deadline > now)
    unsettled = EvaluationRow.state.notin_(("published", "final")) | window_open
    stmt = (
        select(func.count())
        .select_from(EvaluationRow)
        .join(Call, Call.id == EvaluationRow.call_id)
        .where(_in_period(lo, hi), unsettled)
    )
    return int(s.scalar(stmt) or 0)


def _input_versions(s: Session, versions: list[Any], rule_sets: list[str]) -> dict[str, Any]:
    """Scorecard versions, rule-set versions and a hash of the evaluation versions used."""
    card_ids = sorted({card for _v, card in versions})
    cards = s.execute(
        select(ScorecardRow.name, ScorecardRow.version).where(ScorecardRow.id.in_(card_ids))
    ).all()
    ids = ",".join(str(v) for v in sorted(v for v, _c in versions))
    return {
        "scorecards": sorted(f"{name}:v{version}" for name, version in cards),
        "rule_sets": rule_sets,
        "evaluation_versions": len(versions),
        "evaluation_versions_sha256": hashlib.sha256(ids.encode()).hexdigest(),
    }


def load_period(
    s: Session,
    period: Period,
    tz: ZoneInfo,
    now: datetime,
    confidence: float = 0.95,
    use_rollup: bool = True,
) -> LoadedPeriod:
    """Everything the report of ``period`` is computed from."""
    _tune(s)
    lo, hi = period.utc_bounds(tz)
    names = Names.load(s)
    facts, versions = load_evaluations(s, lo, hi, names)
    calls, flags, rule_sets = load_volume(s, period, tz, names, use_rollup)
    inputs = ReportInputs(
        calls=calls,
        flags=flags,
        evaluations=facts,
        items=load_item_counts(s, lo, hi),
        agreements=load_agreements(s, lo, hi),
        confidence=confidence,
    )
    return LoadedPeriod(
        inputs, _input_versions(s, versions, rule_sets), count_pending(s, lo, hi, now)
    )


def _tune(s: Session) -> None:
    """PostgreSQL, this transaction only: no JIT (≈0.4 s of compiling per big aggregate, for
    nothing) and enough work memory to group a month of calls in a hash, not a disk sort."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SET LOCAL jit = off"))
        s.execute(text("SET LOCAL work_mem = '64MB'"))
