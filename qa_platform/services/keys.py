"""Key rotation (密钥轮换): a new active KEK re-wraps every data key; blobs never change."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.keyring import KeyringError
from storage.models import Recording


@dataclass(frozen=True)
class RotationReport:
    new_kek_id: str
    rewrapped: int
    previous_kek_ids: list[str]


def rotate(platform: Platform, actor: str = "cli", batch: int = 500) -> RotationReport:
    """Add a new active KEK and re-wrap every live data key with it.

    The keyring is saved first (old keys kept), so a crash half-way leaves every recording
    readable: rows not yet re-wrapped still open with their old KEK. Run again to finish.
    """
    ring = platform.reload_keyring()
    previous = sorted(ring.keks)
    kek = ring.add_active()
    ring.save()
    rewrapped = 0
    while True:
        with platform.uow() as uow:
            rows = uow.session.scalars(
                select(Recording)
                .where(
                    Recording.kek_id.is_not(None),
                    Recording.kek_id != kek.id,
                    Recording.wrapped_key.is_not(None),
                )
                .order_by(Recording.id)
                .limit(batch)
                .with_for_update()
            ).all()
            if not rows:
                break
            for rec in rows:
                assert rec.kek_id is not None and rec.wrapped_key is not None
                data_key = ring.unwrap(rec.kek_id, rec.wrapped_key, rec.blob_id)
                rec.kek_id, rec.wrapped_key = ring.wrap(data_key, rec.blob_id)
            rewrapped += len(rows)
            uow.commit()
    with platform.uow() as uow:
        append_audit(
            uow.session,
            actor=actor,
            action="keys.rotate",
            object_type="kek",
            object_id=kek.id,
            details={"rewrapped": rewrapped, "previous": previous},
        )
        uow.commit()
    return RotationReport(kek.id, rewrapped, previous)


@dataclass(frozen=True)
class KeyInfo:
    id: str
    created_at: str
    active: bool
    recordings: int  # data keys it wraps


@dataclass(frozen=True)
class KeyStatus:
    """The keyring as operators see it (``qa keys status``, the admin keys page)."""

    active: str
    keys: tuple[KeyInfo, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"active": self.active, "keys": [asdict(k) for k in self.keys]}


def key_status(platform: Platform) -> KeyStatus:
    """Which KEKs exist, which is active, and how many data keys each wraps."""
    ring = platform.reload_keyring()
    with platform.uow() as uow:
        counts = Counter(
            uow.session.scalars(select(Recording.kek_id).where(Recording.kek_id.is_not(None))).all()
        )
    keys = tuple(
        KeyInfo(k.id, k.created_at, k.id == ring.active_id, counts.get(k.id, 0))
        for k in ring.keks.values()
    )
    return KeyStatus(ring.active_id, keys)


def retire(platform: Platform, kek_id: str, actor: str = "cli") -> None:
    """Remove an old KEK from the keyring once no data key depends on it."""
    ring = platform.reload_keyring()
    with platform.uow() as uow:
        still = uow.session.scalar(select(Recording.id).where(Recording.kek_id == kek_id).limit(1))
        if still is not None:
            raise KeyringError(
                f"{kek_id} still wraps data keys (e.g. recording {still}); "
                "run `qa keys rotate` first"
            )
        ring.retire(kek_id)
        ring.save()
        append_audit(
            uow.session, actor=actor, action="keys.retire", object_type="kek", object_id=kek_id
        )
        uow.commit()
