"""The keyring in the database, sealed under a master key (``QA_KEYRING_URL=db://``).

For nodes that share no disk: each KEK is stored AES-256-GCM-encrypted under the master key
(32 bytes each node is given, ``QA_MASTER_KEY`` or ``QA_MASTER_KEY_FILE``), so a worker with an
empty ``QA_HOME`` gets the KEKs from the database it already reaches. The database (or a dump of
it) alone opens nothing; the master key alone opens nothing either. The associated data binds
the KEK id and the master key's id, so a sealed KEK cannot be renamed or moved to another key.
Trust model: docs/deploy.md, "Keys".
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storage.db import is_postgres
from storage.keyring import Kek, Keyring, KeyringError
from storage.models_scaleout import SealedKek
from storage.uow import DatabaseConfig, UnitOfWork

_LOCK_KEY = 0x51414B52  # "QAKR": PostgreSQL advisory lock held while the keyring is written


def master_key_id(master_key: bytes) -> str:
    """A public name for the master key (HMAC, reveals nothing of the key)."""
    return hmac.new(master_key, b"qa-master-key-id", hashlib.sha256).hexdigest()[:16]


def _aad(kek_id: str, key_id: str) -> bytes:
    return f"qa-sealed-kek|{kek_id}|{key_id}".encode()


class DbKeyringSource:
    """KEKs in table ``sealed_keks``; see the module docstring."""

    def __init__(self, config: DatabaseConfig, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise KeyringError("the master key must be 32 bytes (AES-256)")
        self.config = config
        self._master = master_key
        self.master_key_id = master_key_id(master_key)

    def describe(self) -> str:
        return "db://"

    def exists(self) -> bool:
        with UnitOfWork(self.config) as uow:
            return uow.session.scalar(select(SealedKek.id).limit(1)) is not None

    def load(self) -> Keyring:
        with UnitOfWork(self.config) as uow:
            rows = uow.session.scalars(select(SealedKek).order_by(SealedKek.id)).all()
            sealed = [(r.id, r.sealed, r.master_key_id, r.created_at, r.active) for r in rows]
        if not sealed:
            raise KeyringError("the database holds no keyring (run `qa init`)")
        keks = {
            kek_id: Kek(kek_id, self._unseal(kek_id, blob, mk), at)
            for kek_id, blob, mk, at, _ in sealed
        }
        active = [kek_id for kek_id, *_, is_active in sealed if is_active]
        if len(active) != 1:
            raise KeyringError(f"the database keyring has {len(active)} active keys, not one")
        return Keyring(self, keks, active[0])

    def create(self) -> Keyring:
        """One new active KEK, unless another node created the keyring first (then that one)."""
        ring = Keyring.new(self)
        with UnitOfWork(self.config) as uow:
            _lock(uow.session)
            if uow.session.scalar(select(SealedKek.id).limit(1)) is not None:
                return self.load()
            self._write(uow.session, ring)
            uow.commit()
        return ring

    def save(self, ring: Keyring) -> None:
        """Make the table hold exactly ``ring`` (new KEKs sealed, retired ones removed)."""
        with UnitOfWork(self.config) as uow:
            _lock(uow.session)
            self._write(uow.session, ring)
            uow.commit()

    def _write(self, session: Session, ring: Keyring) -> None:
        stored = {r.id: r for r in session.scalars(select(SealedKek)).all()}
        for kek_id, row in stored.items():
            if kek_id not in ring.keks:
                session.delete(row)
            else:
                row.active = kek_id == ring.active_id
        for kek in ring.keks.values():
            if kek.id not in stored:
                session.add(
                    SealedKek(
                        id=kek.id,
                        sealed=self._seal(kek),
                        master_key_id=self.master_key_id,
                        created_at=kek.created_at,
                        active=kek.id == ring.active_id,
                    )
                )

    def _seal(self, kek: Kek) -> bytes:
        nonce = os.urandom(12)
        return nonce + AESGCM(self._master).encrypt(
            nonce, kek.key, _aad(kek.id, self.master_key_id)
        )

    def _unseal(self, kek_id: str, sealed: bytes, key_id: str) -> bytes:
        if key_id != self.master_key_id:
            raise KeyringError(
                f"KEK {kek_id} is sealed under master key {key_id}; this node's master key is "
                f"{self.master_key_id} (check QA_MASTER_KEY / QA_MASTER_KEY_FILE)"
            )
        try:
            return AESGCM(self._master).decrypt(sealed[:12], sealed[12:], _aad(kek_id, key_id))
        except InvalidTag:
            raise KeyringError(f"sealed KEK {kek_id} does not open (tampered row?)") from None


def _lock(session: Session) -> None:
    """Serialise keyring writers across nodes (PostgreSQL; SQLite has one writer anyway)."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
