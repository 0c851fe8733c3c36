"""Auto-QA use cases (机器预评分): judge every analysed call, store it apart, re-run when versions change.

The pipeline's ``autoqa`` stage (after ``flags``) calls :func:`evaluate_call`; ``qa autoqa
rerun`` calls :func:`rerun`. Both read the call's stored flags, transcript and features, measure
the call metrics under the active rule set, run the pure judges of :mod:`scoring.judges` and
upsert one ``auto_evaluations`` row keyed by (call, scorecard version, rule-set version). The
people's evaluations are never read for writing nor touched. What is read back lives in
:mod:`scoring.services.autoqa_reads`, the agreement with people in
:mod:`scoring.services.autoqa_agreement`, the 机器结果 figures in
:mod:`scoring.services.autoqa_figures`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.calls import CallNotFound, CallStatus
from qa_platform.domain.transcript import Flag, Role, Severity
from qa_platform.flags import RuleSet
from qa_platform.services.context import Platform
from qa_platform.services.flags import active_rule_set, load_analyses
from scoring.call_metrics import CallMetrics, measure
from scoring.judges import AutoEvaluation, judge
from scoring.scorecard import Scorecard, default_scorecard
from scoring.services.business_lines import business_lines
from scoring.services.scorecards import card_of_row, scorecard_row, store_scorecard
from storage.audit import append_audit
from storage.models import Call, CallFlag
from storage.models_autoqa import AutoEvaluationRow

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
        call = uow.session.get(Call, call_id)
        if call is None:
            raise CallNotFound(f"no call {call_id}")
        if scorecard is None:  # the call's business line (业务条线) decides, else the default
            scorecard = business_lines(uow.session).get(call.business_type or "")
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
            audio=c.has_audio,
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


@dataclass(frozen=True, slots=True)
class AutoRerunResult:
    """What ``qa autoqa rerun`` did."""

    scorecard: str
    scorecard_version: int
    rule_set_version: str
    calls: int
    seconds: float
    lines: tuple[str, ...] = ()  # business lines' scorecards judged too ("name:vN")

    def to_dict(self) -> dict[str, Any]:
        return {
            "scorecard": self.scorecard,
            "scorecard_version": self.scorecard_version,
            "rule_set_version": self.rule_set_version,
            "calls": self.calls,
            "seconds": round(self.seconds, 3),
            "lines": list(self.lines),
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
        todo = [
            (versions, list(uow.session.scalars(_affected(versions, since, everything, only, out))))
            for versions, only, out in _groups(uow.session, scorecard)
        ]
        uow.commit()
    for versions, ids in todo:
        for start in range(0, len(ids), batch_size):
            with platform.uow() as uow:
                batch = ids[start : start + batch_size]
                evaluate_batch(uow.session, batch, versions, reuse_metrics=True)
                uow.commit()
    versions = todo[0][0]
    result = AutoRerunResult(
        versions.card.name,
        versions.card.version,
        versions.rules.version,
        sum(len(ids) for _v, ids in todo),
        time.perf_counter() - began,
        tuple(f"{v.card.name}:v{v.card.version}" for v, _ids in todo[1:]),
    )
    _audit_rerun(platform, actor, result, since)
    return result


def _groups(
    session: Session, scorecard: str | None
) -> list[tuple[Versions, Sequence[str] | None, Sequence[str]]]:
    """(versions, only these business types, not these) per scorecard to judge with: the named
    one for every call; else the default for calls outside any business line, then each
    line's scorecard for its types."""
    default = current_versions(session, scorecard)
    if scorecard is not None:
        return [(default, None, ())]
    by_card: dict[str, list[str]] = {}
    for btype, name in sorted(business_lines(session).items()):
        if name != default.card.name:
            by_card.setdefault(name, []).append(btype)
    mapped = [t for types in by_card.values() for t in types]
    groups: list[tuple[Versions, Sequence[str] | None, Sequence[str]]] = [(default, None, mapped)]
    for name, types in sorted(by_card.items()):
        groups.append((current_versions(session, name), types, ()))
    return groups


def _affected(
    versions: Versions,
    since: datetime | None,
    everything: bool,
    only: Sequence[str] | None = None,
    excluded: Sequence[str] = (),
) -> Any:
    query = select(Call.id).where(Call.status == CallStatus.ANALYSED).order_by(Call.id)
    if only is not None:
        query = query.where(Call.business_type.in_(list(only)))
    if excluded:
        query = query.where(
            or_(Call.business_type.is_(None), Call.business_type.not_in(list(excluded)))
        )
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


__all__ = [
    "AutoRerunResult",
    "Versions",
    "current_versions",
    "evaluate_batch",
    "evaluate_call",
    "rerun",
]
