"""Append-only, hash-chained audit log (审计日志).

Each event's hash covers the previous event's hash and its own fields, so editing, deleting or
reordering a stored row breaks the chain at that point; ``verify_chain`` names the first break.
Appends lock the single chain-head row, so concurrent writers cannot fork the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from storage.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _canonical_time(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(UTC).replace(tzinfo=None)
    return at.isoformat(timespec="microseconds")


def event_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any],
) -> str:
    body = json.dumps(
        [seq, _canonical_time(at), actor, action, object_type, object_id, details],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add one event in the caller's transaction (the unit of work commits it).

    The head row is *written* before it is read: the UPDATE takes the row lock on PostgreSQL
    and the write lock on SQLite (which ignores FOR UPDATE), so the read that follows sees the
    last committed head and two concurrent appends queue instead of forking the chain.
    """
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1))
    seq, prev_hash = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)
    ).one()
    at = at or utc_now()
    details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    digest = event_hash(prev_hash, seq, at, actor, action, object_type, str(object_id), details)
    event = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_broken_seq": self.first_broken_seq,
            "reason": self.reason,
        }


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the log in order and report the first event whose link or hash is wrong."""
    prev, expected_seq, checked = GENESIS, 1, 0
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for ev in session.scalars(stmt):
        problem = _check(ev, prev, expected_seq)
        if problem:
            return ChainReport(False, checked, ev.seq, problem)
        prev, expected_seq, checked = ev.hash, ev.seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev):
        return ChainReport(
            False,
            checked,
            checked + 1,
            f"chain head says {head.seq} events but {checked} are stored "
            "(events removed from the end)",
        )
    return ChainReport(True, checked)


def _check(ev: AuditEvent, prev: str, expected_seq: int) -> str:
    if ev.seq != expected_seq:
        return f"event {expected_seq} is missing (next stored is {ev.seq})"
    if ev.prev_hash != prev:
        return f"event {ev.seq} does not link to the event before it"
    digest = event_hash(
        ev.prev_hash, ev.seq, ev.at, ev.actor, ev.action, ev.object_type, ev.object_id, ev.details
    )
    if digest != ev.hash:
        return f"event {ev.seq} ({ev.action} {ev.object_type} {ev.object_id}) was altered"
    return ""
