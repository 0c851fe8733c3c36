"""Quality reports as stored snapshots (品质日报/周报/月报, standard 7.5.2 c).

``compute_report`` computes a day, ISO week or month into a ``ReportSnapshot``:

* provisional while any evaluation of the period can still change (not yet published, appeal
  window open, appeal undecided) or the period has not ended; final after that;
* a recompute whose figures equal the latest version's adds nothing (it may only move the
  status from provisional to final, with an audit event);
* a recompute whose figures differ adds version n+1 with a change log (path, old, new) against
  version n: a revised appeal after publication shows up this way, never as an edit.

Supervisors publish (发布) a version; inspectors and agents read published ones, agents only
their own line (``visible_report``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.errors import Forbidden, NotFound, QaError
from scoring.reports.machine_section import machine_section, reduced_for_agent
from scoring.reports.metrics import compute_metrics
from scoring.reports.periods import Period, ReportKind, parse_kind, period_for
from scoring.reports.queries import load_period
from scoring.reports.training import training_quality
from storage.audit import append_audit
from storage.models import User
from storage.models_reports import ReportSnapshot
from storage.uow import UnitOfWork

PROVISIONAL, FINAL = "provisional", "final"
PUBLISHERS = frozenset({"supervisor", "admin"})
READERS = frozenset({"inspector", "agent"}) | PUBLISHERS
TREND_KEYS = (
    "calls_received",
    "calls_analysed",
    "flagged_calls",
    "sample_size",
    "mean_score",
    "pass_rate",
    "red_lines",
    "business_accuracy",
    "compliance_accuracy",
    "appeal_rate",
    "overturn_rate",
    "consistency_rate",
)
ROW_KEYS = ("name", "item_code", "flag_type", "low", "code", "period")
UNCOMPARED = frozenset({"inputs", "pending_evaluations"})


class ReportError(QaError):
    """A report request that cannot be served; the message says why (each kind below)."""


class ReportNotFound(ReportError, NotFound):
    """No such snapshot (or no such user to act as)."""


class PublishForbidden(ReportError, Forbidden):
    """The user may not publish reports: supervisors and admins do (发布)."""


def centre_tz(settings: Any) -> ZoneInfo:
    """The centre's time zone: report periods are local days, weeks and months."""
    return ZoneInfo(settings.centre_timezone)


# --------------------------------------------------------------------------------------
# Compute


def compute_report(
    uow: UnitOfWork,
    kind: str | ReportKind,
    day: date,
    now: datetime | None = None,
    actor: str = "system",
) -> dict[str, Any]:
    """Compute the report of the period containing ``day``; store a new version if it moved.

    Returns the snapshot (``created`` says whether a new version row was written).
    """
    period = period_for(parse_kind(kind), day)
    now = now or utc_now()
    with uow:
        s = uow.session
        tz = centre_tz(uow.settings)
        loaded = load_period(s, period, tz, now, _confidence(uow.settings))
        payload = compute_metrics(loaded.inputs)
        payload = _framed(period, payload, _trend(s, period, payload["centre"], tz, now))
        payload["machine"] = machine_section(s, period, tz, uow.settings)
        payload["training"] = training_quality(s, *period.utc_bounds(tz), tz)
        payload["centre"]["training_quality_rate"] = payload["training"]["training_quality_rate"]
        payload |= {"inputs": loaded.versions, "pending_evaluations": loaded.pending}
        status = _status(period, tz, now, loaded.pending)
        row, created = _store(s, period, payload, status, loaded.versions, actor, now)
        uow.commit()
        return snapshot_dict(row) | {"created": created}


def _confidence(settings: Any) -> float:
    return settings.report_confidence


def _framed(period: Period, payload: dict[str, Any], trend: dict[str, Any]) -> dict[str, Any]:
    head = {
        "kind": str(period.kind),
        "title": period.title,
        "period": {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "label": period.label,
        },
    }
    return head | payload | {"trend": trend}


def _status(period: Period, tz: ZoneInfo, now: datetime, pending: int) -> str:
    ended = now >= period.utc_bounds(tz)[1]
    return FINAL if ended and pending == 0 else PROVISIONAL


def _trend(
    s: Session, period: Period, centre: Mapping[str, Any], tz: ZoneInfo, now: datetime
) -> dict[str, Any]:
    """Centre figures against the previous period (its latest snapshot, else computed now)."""
    previous = period.previous()
    stored = _latest(s, previous)
    if stored is not None:
        before = stored.payload["centre"]
    else:
        before = compute_metrics(load_period(s, previous, tz, now).inputs)["centre"]
    rows = {}
    for key in TREND_KEYS:
        cur, old = centre.get(key), before.get(key)
        delta = None if cur is None or old is None else round(cur - old, 6)
        rows[key] = {"current": cur, "previous": old, "delta": delta}
    return {"previous_label": previous.label, "metrics": rows}


def content_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the figures (not of the input bookkeeping): equal figures, equal hash."""
    figures = {k: v for k, v in payload.items() if k not in UNCOMPARED}
    text = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _latest(s: Session, period: Period) -> ReportSnapshot | None:
    return s.scalar(
        select(ReportSnapshot)
        .where(ReportSnapshot.kind == str(period.kind), ReportSnapshot.period_start == period.start)
        .order_by(ReportSnapshot.version.desc())
        .limit(1)
    )


def _store(
    s: Session,
    period: Period,
    payload: dict[str, Any],
    status: str,
    versions: dict[str, Any],
    actor: str,
    now: datetime,
) -> tuple[ReportSnapshot, bool]:
    digest = content_hash(payload)
    latest = _latest(s, period)
    if latest is not None and latest.content_hash == digest:
        if latest.status == PROVISIONAL and status == FINAL:
            _finalise(s, latest, actor, now)
        return latest, False
    row = ReportSnapshot(
        kind=str(period.kind),
        period_start=period.start,
        period_end=period.end,
        period_label=period.label,
        version=(latest.version + 1) if latest else 1,
        status=status,
        published=False,
        inputs=versions,
        content_hash=digest,
        payload=payload,
        changes=diff_payloads(latest.payload, payload) if latest else [],
        created_by=actor,
        created_at=now,
    )
    s.add(row)
    s.flush()
    details = {
        "kind": row.kind,
        "period": row.period_label,
        "version": row.version,
        "status": status,
        "changes": len(row.changes),
    }
    append_audit(
        s,
        actor=actor,
        action="report.computed",
        object_type="report",
        object_id=row.id,
        details=details,
        at=now,
    )
    return row, True


def _finalise(s: Session, row: ReportSnapshot, actor: str, now: datetime) -> None:
    row.status = FINAL
    append_audit(
        s,
        actor=actor,
        action="report.finalised",
        object_type="report",
        object_id=row.id,
        details={"period": row.period_label, "version": row.version},
        at=now,
    )


# --------------------------------------------------------------------------------------
# Change log


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Scalars of a nested payload by path; list rows are keyed by their name (teams[A].x)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out |= flatten(item, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        out = {}
        for n, row in enumerate(value):
            key = next((row[k] for k in ROW_KEYS if k in row), n)
            out |= flatten(row, f"{path}[{key}]")
        return out
    return {path: value}


def diff_payloads(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What moved between two versions: ``[{path, old, new}]`` (rows added/removed included)."""
    a = flatten({k: v for k, v in old.items() if k not in UNCOMPARED})
    b = flatten({k: v for k, v in new.items() if k not in UNCOMPARED})
    return [
        {"path": p, "old": a.get(p), "new": b.get(p)}
        for p in sorted(set(a) | set(b))
        if a.get(p) != b.get(p)
    ]


# --------------------------------------------------------------------------------------
# Read, publish, visibility


def snapshot_dict(row: ReportSnapshot, with_payload: bool = True) -> dict[str, Any]:
    """A snapshot as plain data (the CLI's JSON contract and the web layer's input)."""
    data = {
        "id": row.id,
        "kind": row.kind,
        "period_label": row.period_label,
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "version": row.version,
        "status": row.status,
        "published": row.published,
        "published_by": row.published_by,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
        "inputs": row.inputs,
        "changes": row.changes,
    }
    return data | {"payload": row.payload} if with_payload else data


def get_snapshot(uow: UnitOfWork, snapshot_id: int) -> dict[str, Any]:
    """One snapshot by id."""
    with uow:
        row = uow.session.get(ReportSnapshot, snapshot_id)
        if row is None:
            raise ReportNotFound(f"no report snapshot {snapshot_id}")
        return snapshot_dict(row)


def latest_snapshot(uow: UnitOfWork, kind: str | ReportKind, day: date) -> dict[str, Any] | None:
    """The newest version of the report of the period containing ``day``, or None."""
    with uow:
        row = _latest(uow.session, period_for(parse_kind(kind), day))
        return snapshot_dict(row) if row else None


def list_snapshots(
    uow: UnitOfWork,
    kind: str | None = None,
    published_only: bool = False,
    limit: int = 200,
    by_id: bool = False,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Snapshots without payloads, newest period first; ``by_id``: newest id first, only ids
    below ``before_id`` when given (the API's cursor: the last id of the page already read)."""
    stmt = select(ReportSnapshot).order_by(
        ReportSnapshot.period_start.desc(), ReportSnapshot.kind, ReportSnapshot.version.desc()
    )
    if by_id:
        stmt = select(ReportSnapshot).order_by(ReportSnapshot.id.desc())
        if before_id is not None:
            stmt = stmt.where(ReportSnapshot.id < before_id)
    if kind:
        stmt = stmt.where(ReportSnapshot.kind == str(parse_kind(kind)))
    if published_only:
        stmt = stmt.where(ReportSnapshot.published)
    with uow:
        return [
            snapshot_dict(r, with_payload=False) for r in uow.session.scalars(stmt.limit(limit))
        ]


def publish_report(
    uow: UnitOfWork, snapshot_id: int, user: int | str, now: datetime | None = None
) -> dict[str, Any]:
    """A supervisor publishes one version (发布); inspectors and agents can then read it."""
    now = now or utc_now()
    with uow:
        s = uow.session
        by = _user(s, user)
        if by.role not in PUBLISHERS:
            raise PublishForbidden(
                f"user {by.username} ({by.role}) may not publish reports: supervisors do"
            )
        row = s.get(ReportSnapshot, snapshot_id)
        if row is None:
            raise ReportNotFound(f"no report snapshot {snapshot_id}")
        if not row.published:
            row.published, row.published_by, row.published_at = True, by.id, now
            append_audit(
                s,
                actor=by.username,
                action="report.published",
                object_type="report",
                object_id=row.id,
                details={"period": row.period_label, "version": row.version},
                at=now,
            )
        uow.commit()
        return snapshot_dict(row)


def _user(s: Session, user: int | str) -> User:
    if isinstance(user, int) or str(user).isdigit():
        row = s.get(User, int(user))
    else:
        row = s.scalar(select(User).where(User.username == str(user)))
    if row is None:
        raise ReportNotFound(f"no user {user!r}")
    return row


AGENT_SECTIONS = ("kind", "title", "period", "confidence")


def visible_report(user: Any, snapshot: Mapping[str, Any]) -> dict[str, Any] | None:
    """What ``user`` may see of ``snapshot`` (a ``snapshot_dict``), or None for nothing.

    Supervisors and admins: everything. Inspectors: published snapshots. Agents: published
    snapshots reduced to the centre summary and their own line (by 工号, ``agent_code``).
    """
    role = str(getattr(user, "role", ""))
    if role in PUBLISHERS:
        return dict(snapshot)
    if role not in READERS or not snapshot.get("published"):
        return None
    if role == "inspector":
        return dict(snapshot)
    payload = snapshot.get("payload") or {}
    own = getattr(user, "agent_code", None)
    reduced = {k: payload[k] for k in AGENT_SECTIONS if k in payload}
    reduced["centre"] = payload.get("centre")
    reduced["agents"] = [r for r in payload.get("agents", []) if own and r.get("name") == own]
    if "machine" in payload:
        reduced["machine"] = reduced_for_agent(payload["machine"], own)
    hidden = {"inputs", "changes", "published_by", "created_by"}
    return {k: v for k, v in snapshot.items() if k not in hidden} | {"payload": reduced}
