"""Complaint closed loop (投诉闭环): open, propose, alert, confirm, dismiss, close, list.

The one write path of a complaint case: the CLI, the pages and the periodic scan call these
commands. A person opens a case on calls; the scan (Celery beat every minute, or cron running
``qa complaints scan``) proposes one for every analysed call flagged ``complaint_risk`` that no
case covers yet (a critical term, such as a regulator or the media, makes it a major complaint).
Every linked call moves to the ``complaint`` retention class (5 years, seeds/003 一(二)2) in the
same transaction. New cases are announced to supervisors through the notifier
(:mod:`qa_platform.services.alerts`) after the commit; a failed delivery is retried by the next
scan. Every change is audited; the audit names calls and kinds, never transcript text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallStatus
from qa_platform.domain.complaints import (
    CaseState,
    ComplaintCase,
    ComplaintConflict,
    ComplaintInvalid,
    ComplaintKind,
    ComplaintNotFound,
    clean_text,
    deadline_for,
    parse_kind,
)
from qa_platform.services.alerts import AlertNotSent, ComplaintAlert, Notifier, notifier_for
from qa_platform.services.context import Platform
from qa_platform.services.outbound import centre_calendar
from qa_platform.services.retention import extend_retention
from storage.audit import append_audit
from storage.models import Call, CallFlag
from storage.models_complaints import ComplaintCallRow, ComplaintCaseRow

log = logging.getLogger(__name__)
RETENTION_CLASS = "complaint"
AUTO_ACTOR = "system:complaint_risk"


@dataclass(frozen=True)
class CaseView:
    """A complaint case as commands and pages show it (a documented JSON contract)."""

    id: int
    kind: str
    state: str
    source: str
    summary: str
    call_ids: tuple[int, ...]
    opened_by: str
    opened_at: str
    deadline_at: str
    overdue: bool
    alerted_at: str | None
    alert_channel: str
    decided_by: str | None
    decided_at: str | None
    closed_by: str | None
    closed_at: str | None
    outcome: str
    row_version: int

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["call_ids"] = list(self.call_ids)
        return data


@dataclass(frozen=True)
class ScanResult:
    """What one scan did: cases proposed, alerts delivered, alerts that failed."""

    proposed: tuple[int, ...]
    alerted: tuple[int, ...]
    failed: tuple[int, ...]

    def to_dict(self) -> dict[str, list[int]]:
        return {k: list(v) for k, v in asdict(self).items()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _view(row: ComplaintCaseRow, call_ids: Sequence[int], now: datetime) -> CaseView:
    domain = ComplaintCase(row.id, ComplaintKind(row.kind), CaseState(row.state), row.deadline_at)
    return CaseView(
        row.id,
        row.kind,
        row.state,
        row.source,
        row.summary,
        tuple(sorted(call_ids)),
        row.opened_by,
        row.opened_at.isoformat(),
        row.deadline_at.isoformat(),
        domain.overdue(now),
        _iso(row.alerted_at),
        row.alert_channel,
        row.decided_by,
        _iso(row.decided_at),
        row.closed_by,
        _iso(row.closed_at),
        row.outcome,
        row.row_version,
    )


def _call_ids(session: Session, case_ids: Iterable[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    rows = session.execute(
        select(ComplaintCallRow.case_id, ComplaintCallRow.call_id).where(
            ComplaintCallRow.case_id.in_(list(case_ids))
        )
    )
    for case_id, call_id in rows:
        out.setdefault(case_id, []).append(call_id)
    return out


def _audit(
    session: Session, actor: str, action: str, row: ComplaintCaseRow, **details: object
) -> None:
    append_audit(
        session,
        actor=actor,
        action=f"complaint.{action}",
        object_type="complaint_case",
        object_id=row.id,
        details={"state": row.state, "kind": row.kind, **details},
    )


# ----------------------------------------------------------------------------- creating cases


def _locked_calls(session: Session, call_ids: Sequence[int]) -> list[Call]:
    ids = sorted(set(call_ids))
    if not ids:
        raise ComplaintInvalid.of("complaint.no_calls")
    calls = list(session.scalars(select(Call).where(Call.id.in_(ids)).with_for_update()))
    missing = sorted(set(ids) - {c.id for c in calls})
    if missing:
        raise ComplaintInvalid.of("complaint.unknown_calls", calls=missing)
    for call in calls:
        if call.purged_at is not None:
            raise ComplaintInvalid.of("complaint.purged_call", call=call.id)
    return calls


def _create(
    platform: Platform,
    session: Session,
    calls: Sequence[Call],
    kind: ComplaintKind,
    state: CaseState,
    summary: str,
    actor: str,
    source: str,
) -> ComplaintCaseRow:
    """Insert the case, link its calls and extend their retention (caller commits)."""
    now = platform.clock.now()
    settings = platform.settings
    deadline = deadline_for(kind, now, centre_calendar(settings), settings.centre_timezone)
    row = ComplaintCaseRow(
        kind=str(kind),
        state=str(state),
        source=source,
        summary=summary,
        opened_by=actor,
        opened_at=now,
        deadline_at=deadline,
        alert_channel="",
        outcome="",
        row_version=1,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    for call in calls:
        session.add(ComplaintCallRow(case_id=row.id, call_id=call.id, linked_at=now))
        extend_retention(platform, session, call, RETENTION_CLASS, actor)
    action = "open" if state is CaseState.OPEN else "propose"
    _audit(session, actor, action, row, calls=[c.id for c in calls], source=source)
    return row


def open_case(
    platform: Platform,
    call_ids: Sequence[int],
    kind: str,
    summary: str,
    actor: str,
    notifier: Notifier | None = None,
) -> CaseView:
    """A person opens a case (受理) on one or more calls; supervisors are alerted."""
    complaint_kind, text = parse_kind(kind), clean_text("summary", summary, required=True)
    with platform.uow() as uow:
        calls = _locked_calls(uow.session, call_ids)
        row = _create(
            platform, uow.session, calls, complaint_kind, CaseState.OPEN, text, actor, "manual"
        )
        uow.commit()
        case_id = row.id
    send_pending_alerts(platform, notifier, only=[case_id])
    return show_case(platform, case_id)


def _unlinked_risk_calls(session: Session) -> list[tuple[int, bool]]:
    """Analysed calls flagged ``complaint_risk`` that no case covers: (call id, any critical)."""
    linked = exists().where(ComplaintCallRow.call_id == Call.id)
    rows = session.execute(
        select(Call.id, CallFlag.severity)
        .join(CallFlag, CallFlag.call_id == Call.id)
        .where(
            Call.status == str(CallStatus.ANALYSED),
            CallFlag.type == "complaint_risk",
            ~linked,
        )
        .order_by(Call.id)
    )
    found: dict[int, bool] = {}
    for call_id, severity in rows:
        found[call_id] = found.get(call_id, False) or severity == "critical"
    return list(found.items())


def propose_from_flags(platform: Platform) -> list[int]:
    """Propose a case for every analysed, flagged call without one; one transaction per call."""
    with platform.uow() as uow:
        candidates = _unlinked_risk_calls(uow.session)
    proposed = []
    for call_id, critical in candidates:
        kind = ComplaintKind.MAJOR if critical else ComplaintKind.COMPLAINT
        with platform.uow() as uow:
            calls = _locked_calls(uow.session, [call_id])
            if uow.session.scalar(select(exists().where(ComplaintCallRow.call_id == call_id))):
                continue  # another scan got there first
            summary = f"系统根据通话 {call_id} 的投诉风险标记提议立案，请核实"
            row = _create(
                platform, uow.session, calls, kind, CaseState.PROPOSED, summary, AUTO_ACTOR, "auto"
            )
            uow.commit()
            proposed.append(row.id)
    return proposed


# ----------------------------------------------------------------------------- alerts


def send_pending_alerts(
    platform: Platform, notifier: Notifier | None = None, only: Sequence[int] | None = None
) -> tuple[list[int], list[int]]:
    """Deliver the alert of every live case not alerted yet; returns (alerted, failed)."""
    sender = notifier or notifier_for(platform.settings)
    with platform.uow() as uow:
        query = select(ComplaintCaseRow).where(
            ComplaintCaseRow.alerted_at.is_(None),
            ComplaintCaseRow.state.in_([str(CaseState.PROPOSED), str(CaseState.OPEN)]),
        )
        if only is not None:
            query = query.where(ComplaintCaseRow.id.in_(list(only)))
        rows = list(uow.session.scalars(query.order_by(ComplaintCaseRow.id)))
        links = _call_ids(uow.session, [r.id for r in rows])
        alerts = [_alert(r, links.get(r.id, [])) for r in rows]
    alerted, failed = [], []
    for alert in alerts:
        try:
            sender.send(alert)
        except AlertNotSent as exc:
            log.error("complaint alert for case %s not sent: %s", alert.case_id, exc)
            failed.append(alert.case_id)
            continue
        _mark_alerted(platform, alert.case_id, sender.channel)
        alerted.append(alert.case_id)
    return alerted, failed


def _alert(row: ComplaintCaseRow, call_ids: Sequence[int]) -> ComplaintAlert:
    return ComplaintAlert(
        row.id,
        row.kind,
        row.state,
        tuple(sorted(call_ids)),
        row.deadline_at.isoformat(),
        row.summary,
    )


def _mark_alerted(platform: Platform, case_id: int, channel: str) -> None:
    with platform.uow() as uow:
        row = _get(uow.session, case_id)
        row.alerted_at, row.alert_channel = platform.clock.now(), channel
        _audit(uow.session, "system:alerts", "alert", row, channel=channel)
        uow.commit()


def scan(platform: Platform, notifier: Notifier | None = None) -> ScanResult:
    """Propose cases from flags, then deliver every pending alert (idempotent)."""
    proposed = propose_from_flags(platform)
    alerted, failed = send_pending_alerts(platform, notifier)
    return ScanResult(tuple(proposed), tuple(alerted), tuple(failed))


# ----------------------------------------------------------------------------- transitions


def _get(session: Session, case_id: int) -> ComplaintCaseRow:
    row = session.scalar(
        select(ComplaintCaseRow).where(ComplaintCaseRow.id == case_id).with_for_update()
    )
    if row is None:
        raise ComplaintNotFound.of("complaint.not_found", case=case_id)
    return row


def _check_version(row: ComplaintCaseRow, expected: int | None) -> None:
    if expected is not None and row.row_version != expected:
        raise ComplaintConflict(
            f"complaint case {row.id} changed (version {row.row_version}, expected {expected})"
        )


def _domain(row: ComplaintCaseRow) -> ComplaintCase:
    return ComplaintCase(row.id, ComplaintKind(row.kind), CaseState(row.state), row.deadline_at)


def _save(platform: Platform, row: ComplaintCaseRow, case: ComplaintCase) -> None:
    row.state, row.kind = str(case.state), str(case.kind)
    row.row_version += 1
    row.updated_at = platform.clock.now()


def confirm_case(
    platform: Platform,
    case_id: int,
    actor: str,
    kind: str | None = None,
    expected_version: int | None = None,
) -> CaseView:
    """A person confirms a proposed case (立案), optionally re-classifying it."""
    new_kind = parse_kind(kind) if kind else None
    with platform.uow() as uow:
        row = _get(uow.session, case_id)
        _check_version(row, expected_version)
        case = _domain(row)
        case.confirm(new_kind)
        _save(platform, row, case)
        row.decided_by, row.decided_at = actor, platform.clock.now()
        _audit(uow.session, actor, "confirm", row)
        uow.commit()
    return show_case(platform, case_id)


def dismiss_case(
    platform: Platform, case_id: int, reason: str, actor: str, expected_version: int | None = None
) -> CaseView:
    """A person dismisses a proposal that is no complaint (the reason is kept as the outcome)."""
    with platform.uow() as uow:
        row = _get(uow.session, case_id)
        _check_version(row, expected_version)
        case = _domain(row)
        row.outcome = case.dismiss(reason)
        _save(platform, row, case)
        row.decided_by, row.decided_at = actor, platform.clock.now()
        _audit(uow.session, actor, "dismiss", row)
        uow.commit()
    return show_case(platform, case_id)


def close_case(
    platform: Platform, case_id: int, outcome: str, actor: str, expected_version: int | None = None
) -> CaseView:
    """Close an open case (结案) with its outcome; overdue closings are marked in the audit."""
    with platform.uow() as uow:
        row = _get(uow.session, case_id)
        _check_version(row, expected_version)
        case = _domain(row)
        now = platform.clock.now()
        late = case.overdue(now)
        row.outcome = case.close(outcome)
        _save(platform, row, case)
        row.closed_by, row.closed_at = actor, now
        _audit(uow.session, actor, "close", row, overdue=late)
        uow.commit()
    return show_case(platform, case_id)


# ----------------------------------------------------------------------------- reading


def show_case(platform: Platform, case_id: int) -> CaseView:
    with platform.uow() as uow:
        row = uow.session.get(ComplaintCaseRow, case_id)
        if row is None:
            raise ComplaintNotFound.of("complaint.not_found", case=case_id)
        links = _call_ids(uow.session, [case_id])
        return _view(row, links.get(case_id, []), platform.clock.now())


def list_cases(
    platform: Platform, state: str | None = None, overdue: bool = False
) -> list[CaseView]:
    """Cases, newest first; ``state`` filters, ``overdue`` keeps the unresolved past deadline."""
    if state is not None and state not in {s.value for s in CaseState}:
        allowed = ", ".join(s.value for s in CaseState)
        raise ComplaintInvalid(f"state {state!r} is not one of: {allowed}")
    now = platform.clock.now()
    with platform.uow() as uow:
        query = select(ComplaintCaseRow).order_by(ComplaintCaseRow.id.desc())
        if state:
            query = query.where(ComplaintCaseRow.state == state)
        rows = list(uow.session.scalars(query))
        links = _call_ids(uow.session, [r.id for r in rows])
        views = [_view(r, links.get(r.id, []), now) for r in rows]
    return [v for v in views if v.overdue] if overdue else views


def cases_for_call(session: Session, call_id: int, now: datetime) -> list[dict[str, object]]:
    """The cases a call belongs to, for ``qa call show`` (id, kind, state, deadline, overdue)."""
    rows = session.scalars(
        select(ComplaintCaseRow)
        .join(ComplaintCallRow, ComplaintCallRow.case_id == ComplaintCaseRow.id)
        .where(ComplaintCallRow.call_id == call_id)
        .order_by(ComplaintCaseRow.id)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "state": r.state,
            "deadline_at": r.deadline_at.isoformat(),
            "overdue": _domain(r).overdue(now),
        }
        for r in rows
    ]
