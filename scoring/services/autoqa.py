"""Auto-QA use cases (机器预评分): judge every analysed call, store it apart, re-run when versions change.

The pipeline's ``autoqa`` stage (after ``flags``) calls :func:`evaluate_call`; ``qa autoqa
rerun`` calls :func:`rerun`. Both read the call's stored flags, transcript and features, measure
the call metrics under the active rule set, run the pure judges of :mod:`scoring.judges` and
upsert one ``auto_evaluations`` row keyed by (call, scorecard version, rule-set version). The
people's evaluations are never read for writing nor touched.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.calls import CallNotFound, CallStatus
from qa_platform.domain.errors import Invalid
from qa_platform.domain.transcript import Flag, Role, Severity
from qa_platform.flags import RuleSet
from qa_platform.services.context import Platform
from qa_platform.services.flags import active_rule_set, load_analyses
from scoring.agreement import AgreementReport, agreement_report
from scoring.call_metrics import CallMetrics, measure
from scoring.judges import AutoEvaluation, ItemJudgement, judge
from scoring.scorecard import Scorecard, default_scorecard
from scoring.services.scorecards import card_of_row, scorecard_row, store_scorecard
from storage.audit import append_audit
from storage.models import Call, CallFlag, Team, User
from storage.models_autoqa import AutoEvaluationRow
from storage.models_scoring import (
    EvaluationRow,
    EvaluationVersionRow,
    ItemScoreRow,
    ScorecardRow,
)

RERUN_BATCH = 500
AUTO_EVALUATIONS = cast(Table, AutoEvaluationRow.__table__)


@dataclass(frozen=True, slots=True)
class Versions:
    """What an auto evaluation is keyed by besides the call."""

    scorecard_id: int
    card: Scorecard
    rules: RuleSet


def current_versions(session: Session, scorecard: str | None = None) -> Versions:
    """The latest active version of ``scorecard`` (None: of the default scorecard, whose
    packaged version is stored first if needed) and the active rule set."""
    if scorecard is None:
        scorecard = store_scorecard(session, default_scorecard()).name
    row = scorecard_row(session, scorecard)
    return Versions(row.id, card_of_row(row), active_rule_set(session))


def evaluate_call(
    platform: Platform, call_id: int, *, scorecard: str | None = None
) -> AutoEvaluation:
    """Judge one call and upsert its auto evaluation (the pipeline stage; safe to run twice)."""
    with platform.uow() as uow:
        if uow.session.get(Call, call_id) is None:
            raise CallNotFound(f"no call {call_id}")
        versions = current_versions(uow.session, scorecard)
        result = evaluate_batch(uow.session, [call_id], versions)[call_id]
        uow.commit()
        return result


def evaluate_batch(
    session: Session, call_ids: Sequence[int], versions: Versions, *, reuse_metrics: bool = False
) -> dict[int, AutoEvaluation]:
    """Judge the calls ``call_ids`` and upsert their rows in the caller's transaction.

    With ``reuse_metrics`` a call's metrics measured earlier under the same rule-set version
    are read back instead of measured again from the transcript (a scorecard change does not
    change them); the pipeline stage always measures, since the transcript may be new.
    """
    ids = list(call_ids)
    metrics = _stored_metrics(session, ids, versions.rules.version) if reuse_metrics else {}
    metrics |= _measured(session, [i for i in ids if i not in metrics], versions.rules)
    flags = _flags_by_call(session, ids)
    results = {
        cid: (judge(versions.card, flags.get(cid, ()), metrics[cid]), metrics[cid]) for cid in ids
    }
    _upsert(session, versions, results)
    return {cid: evaluation for cid, (evaluation, _m) in results.items()}


def _measured(session: Session, call_ids: Sequence[int], rules: RuleSet) -> dict[int, CallMetrics]:
    """The call metrics of the calls from their stored transcripts and features."""
    if not call_ids:
        return {}
    calls = list(session.scalars(select(Call).where(Call.id.in_(call_ids))))
    analyses = load_analyses(session, calls)
    return {
        c.id: measure(
            *analyses[c.id],
            rules,
            direction=c.direction if c.direction in ("in", "out") else "in",
            business_type=c.business_type or None,
        )
        for c in calls
    }


def _stored_metrics(
    session: Session, call_ids: Sequence[int], rule_set_version: str
) -> dict[int, CallMetrics]:
    """The latest metrics stored for each call under ``rule_set_version`` (any scorecard)."""
    rows = session.execute(
        select(AutoEvaluationRow.call_id, AutoEvaluationRow.metrics)
        .where(
            AutoEvaluationRow.call_id.in_(call_ids),
            AutoEvaluationRow.rule_set_version == rule_set_version,
        )
        .order_by(AutoEvaluationRow.updated_at, AutoEvaluationRow.id)
    )
    return {call_id: CallMetrics.from_dict(data) for call_id, data in rows}


def _flags_by_call(session: Session, call_ids: Sequence[int]) -> dict[int, list[Flag]]:
    """The stored flags of the calls, with what the judges read (type, role, span, evidence)."""
    out: dict[int, list[Flag]] = {}
    rows = session.execute(
        select(
            CallFlag.call_id,
            CallFlag.type,
            CallFlag.severity,
            CallFlag.role,
            CallFlag.start,
            CallFlag.end,
            CallFlag.evidence,
            CallFlag.rule_set_version,
        )
        .where(CallFlag.call_id.in_(call_ids))
        .order_by(CallFlag.start)
    )
    for call_id, type_, severity, role, start, end, evidence, version in rows:
        flag = Flag(type_, Severity(severity), Role(role), start, end, evidence, version)
        out.setdefault(call_id, []).append(flag)
    return out


def _upsert(session: Session, versions: Versions, results: Mapping[int, Any]) -> None:
    existing = {
        r.call_id: r
        for r in session.scalars(
            select(AutoEvaluationRow).where(
                AutoEvaluationRow.call_id.in_(list(results)),
                AutoEvaluationRow.scorecard_id == versions.scorecard_id,
                AutoEvaluationRow.rule_set_version == versions.rules.version,
            )
        )
    }
    now = utc_now()
    new = []
    for call_id, (evaluation, metrics) in results.items():
        values = _row_values(evaluation, metrics, now)
        row = existing.get(call_id)
        if row is None:
            new.append(
                values
                | {
                    "call_id": call_id,
                    "scorecard_id": versions.scorecard_id,
                    "rule_set_version": versions.rules.version,
                    "created_at": now,
                }
            )
        else:
            for key, value in values.items():
                setattr(row, key, value)
    if new:  # Core insert: one multi-row INSERT per chunk (SQLAlchemy's insertmanyvalues)
        session.connection().execute(insert(AUTO_EVALUATIONS), new)
    session.flush()


def _row_values(evaluation: AutoEvaluation, metrics: CallMetrics, now: datetime) -> dict[str, Any]:
    return {
        "total": evaluation.total,
        "passed": evaluation.passed,
        "red_line": bool(evaluation.red_line_violations),
        "items": [i.to_dict() for i in evaluation.items if i.judged],  # the rest: people's
        "metrics": metrics.to_dict(),
        "updated_at": now,
    }


# ----------------------------------------------------------------------------- rerun


@dataclass(frozen=True, slots=True)
class AutoRerunResult:
    """What ``qa autoqa rerun`` did."""

    scorecard: str
    scorecard_version: int
    rule_set_version: str
    calls: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "scorecard": self.scorecard,
            "scorecard_version": self.scorecard_version,
            "rule_set_version": self.rule_set_version,
            "calls": self.calls,
            "seconds": round(self.seconds, 3),
        }


def rerun(
    platform: Platform,
    since: datetime | None = None,
    *,
    scorecard: str | None = None,
    everything: bool = False,
    actor: str = "cli",
    batch_size: int = RERUN_BATCH,
) -> AutoRerunResult:
    """Judge again every analysed call (started at or after ``since``) that has no auto
    evaluation under the current scorecard and rule-set versions (all of them with
    ``everything``). Each batch is one transaction: a call has its old row or its new one."""
    began = time.perf_counter()
    with platform.uow() as uow:
        versions = current_versions(uow.session, scorecard)
        ids = list(uow.session.scalars(_affected(versions, since, everything)))
        uow.commit()
    for start in range(0, len(ids), batch_size):
        with platform.uow() as uow:
            batch = ids[start : start + batch_size]
            evaluate_batch(uow.session, batch, versions, reuse_metrics=True)
            uow.commit()
    result = AutoRerunResult(
        versions.card.name,
        versions.card.version,
        versions.rules.version,
        len(ids),
        time.perf_counter() - began,
    )
    _audit_rerun(platform, actor, result, since)
    return result


def _affected(versions: Versions, since: datetime | None, everything: bool) -> Any:
    query = select(Call.id).where(Call.status == CallStatus.ANALYSED).order_by(Call.id)
    if since is not None:
        query = query.where(Call.started_at >= since)
    if everything:
        return query
    done = select(AutoEvaluationRow.call_id).where(
        AutoEvaluationRow.scorecard_id == versions.scorecard_id,
        AutoEvaluationRow.rule_set_version == versions.rules.version,
    )
    return query.where(Call.id.not_in(done))


def _audit_rerun(
    platform: Platform, actor: str, result: AutoRerunResult, since: datetime | None
) -> None:
    with platform.uow() as uow:
        append_audit(
            uow.session,
            actor=actor,
            action="autoqa.rerun",
            object_type="scorecard",
            object_id=f"{result.scorecard}:v{result.scorecard_version}",
            details=result.to_dict() | {"since": since.isoformat() if since else None},
        )
        uow.commit()


# ----------------------------------------------------------------------------- read side


def auto_evaluation_detail(session: Session, call_id: int) -> dict[str, Any] | None:
    """The call's latest auto evaluation as ``qa call show`` prints it (None if there is none):
    ``{scorecard, version, total, passed, items: [{code, score, points, judged, violated,
    evidence: [{flag, start, end, text}]}]}``."""
    row = session.execute(
        select(AutoEvaluationRow, ScorecardRow)
        .join(ScorecardRow, ScorecardRow.id == AutoEvaluationRow.scorecard_id)
        .where(AutoEvaluationRow.call_id == call_id)
        .order_by(AutoEvaluationRow.updated_at.desc(), AutoEvaluationRow.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    auto, card_row = row
    judged = {item["code"]: item for item in auto.items}
    return {
        "scorecard": card_row.name,
        "version": card_row.version,
        "total": auto.total,
        "passed": auto.passed,
        "items": [
            judged.get(item.code) or ItemJudgement(item.code, item.points, False).to_dict()
            for item in card_of_row(card_row).items
        ],
    }


def latest_auto_items(
    session: Session, call_ids: Iterable[int], scorecard_id: int | None = None
) -> dict[int, list[dict[str, Any]]]:
    """Per call, the items of its latest auto evaluation (under ``scorecard_id`` if given)."""
    out: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    ids = list(call_ids)
    if not ids:
        return {}
    query = select(
        AutoEvaluationRow.call_id,
        AutoEvaluationRow.updated_at,
        AutoEvaluationRow.id,
        AutoEvaluationRow.items,
    ).where(AutoEvaluationRow.call_id.in_(ids))
    if scorecard_id is not None:
        query = query.where(AutoEvaluationRow.scorecard_id == scorecard_id)
    rows = session.execute(query)
    for call_id, updated_at, row_id, items in rows:
        best = out.get(call_id)
        if best is None or (updated_at, row_id) > best[0]:
            out[call_id] = ((updated_at, row_id), list(items))
    return {cid: items for cid, (_k, items) in out.items()}


# ----------------------------------------------------------------------------- agreement


class AgreementInputError(Invalid):
    """A bad period or threshold for the agreement report (the message names it)."""


def parse_period(value: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``YYYY-MM`` as the month's [start, end) in the centre's time zone."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if match is None or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2200:
        raise AgreementInputError.of("autoqa.bad_period", value=repr(value))
    year, month = int(match[1]), int(match[2])
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


def machine_human_agreement(
    platform: Platform, period: str, threshold: float | None = None
) -> AgreementReport:
    """Machine against the final human result of random-stream evaluations of calls started in
    ``period``, per machine-judged item and pooled; items below ``threshold`` kappa (default
    ``QA_AUTOQA_KAPPA_THRESHOLD``) are marked weak."""
    settings = platform.settings
    limit = settings.autoqa_kappa_threshold if threshold is None else threshold
    if not (math.isfinite(limit) and -1 <= limit <= 1):
        raise AgreementInputError.of("autoqa.bad_threshold", value=repr(threshold))
    start, end = parse_period(period, ZoneInfo(settings.centre_timezone))
    with platform.uow() as uow:
        human = _final_human_items(uow.session, start, end)
        machine = latest_auto_items(uow.session, human)
    pairs = _paired_decisions(human, machine)
    return agreement_report(period, pairs, limit, len(human), settings.report_confidence)


def _final_human_items(
    session: Session, start: datetime, end: datetime
) -> dict[int, dict[str, bool]]:
    """Per call, each applicable item's pass/fail in the evaluation's current version."""
    rows = session.execute(
        select(EvaluationRow.call_id, ItemScoreRow)
        .join(Call, Call.id == EvaluationRow.call_id)
        .join(
            EvaluationVersionRow,
            (EvaluationVersionRow.evaluation_id == EvaluationRow.id)
            & (EvaluationVersionRow.number == EvaluationRow.current_version),
        )
        .join(ItemScoreRow, ItemScoreRow.version_id == EvaluationVersionRow.id)
        .where(
            EvaluationRow.stream == "random",
            EvaluationRow.current_version >= 1,
            Call.started_at >= start,
            Call.started_at < end,
        )
    )
    out: dict[int, dict[str, bool]] = {}
    for call_id, item in rows:
        decisions = out.setdefault(call_id, {})
        if not item.na:
            lost = item.max_points > 0 and (item.score or 0.0) < item.max_points
            decisions[item.item_code] = not (item.violated or lost)
    return out


def _machine_passed(item: Mapping[str, Any]) -> bool:
    score = item["score"]
    return not item["violated"] and (score is None or score >= item["points"])


def _paired_decisions(
    human: Mapping[int, Mapping[str, bool]], machine: Mapping[int, list[dict[str, Any]]]
) -> dict[str, list[tuple[bool, bool]]]:
    pairs: dict[str, list[tuple[bool, bool]]] = {}
    for call_id, decisions in sorted(human.items()):
        for item in machine.get(call_id, ()):
            if item["judged"] and item["code"] in decisions:
                pair = (_machine_passed(item), decisions[item["code"]])
                pairs.setdefault(item["code"], []).append(pair)
    return dict(sorted(pairs.items()))


# ----------------------------------------------------------------------------- 机器结果 figures

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
    "AgreementInputError",
    "AutoFigures",
    "AutoRerunResult",
    "AutoSummary",
    "Versions",
    "auto_evaluation_detail",
    "current_versions",
    "evaluate_batch",
    "evaluate_call",
    "latest_auto_items",
    "machine_human_agreement",
    "machine_summary",
    "parse_period",
    "rerun",
]
