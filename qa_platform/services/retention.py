"""Retention (保存期限): complaint linkage, legal hold, and crypto-shredding at expiry."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select

from qa_platform.domain.calls import CallNotFound, CallStatus
from qa_platform.retention import format_classes, parse_classes
from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.models import Call, Recording


@dataclass(frozen=True)
class PurgeItem:
    call_id: int
    retain_until: str
    purged: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def expired_calls(platform: Platform, now: datetime) -> list[Call]:
    """Calls past their retention date, not held, not yet purged."""
    with platform.uow() as uow:
        return list(
            uow.session.scalars(
                select(Call)
                .where(
                    Call.retain_until < now, Call.legal_hold.is_(False), Call.purged_at.is_(None)
                )
                .order_by(Call.id)
            )
        )


def purge(
    platform: Platform, now: datetime | None = None, dry_run: bool = False, actor: str = "retention"
) -> list[PurgeItem]:
    """Crypto-shred every expired, unheld recording: key destroyed, row tombstoned, blob gone.

    Each call is its own transaction; the legal-hold check is repeated under a row lock, so
    a hold placed while the purge runs still wins.
    """
    now = now or platform.clock.now()
    items = []
    for call in expired_calls(platform, now):
        until = call.retain_until.isoformat()
        purged = False if dry_run else _shred(platform, call.id, now, actor)
        items.append(PurgeItem(call.id, until, purged))
    return items


def _shred(platform: Platform, call_id: int, now: datetime, actor: str) -> bool:
    with platform.uow() as uow:
        call = uow.session.scalar(select(Call).where(Call.id == call_id).with_for_update())
        if call is None or call.legal_hold or call.purged_at is not None:
            return False
        if call.retain_until >= now:
            return False
        rec = uow.session.scalar(select(Recording).where(Recording.call_id == call_id))
        blob_id = rec.blob_id if rec else None
        if rec is not None:
            rec.wrapped_key, rec.kek_id = None, None
        call.status, call.purged_at, call.updated_at = str(CallStatus.PURGED), now, now
        append_audit(
            uow.session,
            actor=actor,
            action="call.purge",
            object_type="call",
            object_id=call_id,
            details={"retain_until": call.retain_until.isoformat()},
        )
        uow.commit()
    if blob_id:
        platform.store.delete(blob_id)  # the key is already gone: the blob is unreadable anyway
    return True


def set_legal_hold(
    platform: Platform, call_id: int, hold: bool, actor: str, reason: str = ""
) -> None:
    with platform.uow() as uow:
        call = _get(uow.session, call_id)
        call.legal_hold = hold
        call.updated_at = platform.clock.now()
        append_audit(
            uow.session,
            actor=actor,
            action="call.legal_hold" if hold else "call.release_hold",
            object_type="call",
            object_id=call_id,
            details={"reason": reason},
        )
        uow.commit()


def add_retention_class(platform: Platform, call_id: int, klass: str, actor: str) -> datetime:
    """Link a call to a complaint/dispute (or any configured class); extends retention."""
    with platform.uow() as uow:
        call = _get(uow.session, call_id)
        classes = parse_classes(call.retention_class) | {klass}
        until = platform.retention_rules.retain_until(call.started_at, classes)
        call.retention_class = format_classes(classes)
        call.retain_until = max(call.retain_until, until)
        call.updated_at = platform.clock.now()
        append_audit(
            uow.session,
            actor=actor,
            action="call.retention_class",
            object_type="call",
            object_id=call_id,
            details={"class": klass, "retain_until": until.isoformat()},
        )
        uow.commit()
        return until


def _get(session, call_id: int) -> Call:
    call = session.scalar(select(Call).where(Call.id == call_id).with_for_update())
    if call is None:
        raise CallNotFound(f"no call {call_id}")
    return call
