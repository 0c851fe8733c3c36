"""Key-encryption keys (KEKs) that wrap each recording's data key.

The embedded default keeps KEKs in a JSON file created with mode 0600; nodes that share no disk
keep them sealed in the database (``storage.keyring_db``). One KEK is active (wraps new data
keys), older ones stay to unwrap until every data key has been re-wrapped, then they can be
retired. Key material never appears in logs, errors or task messages.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qa_platform.clock import utc_now
from qa_platform.domain.errors import QaError


class KeyringError(QaError):
    """The keyring is missing, unreadable, too permissive, or lacks a needed key."""


@dataclass
class Kek:
    id: str
    key: bytes = field(repr=False)
    created_at: str


def _new_kek_id() -> str:
    return f"kek-{utc_now():%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def _wrap_aad(kek_id: str, context: str) -> bytes:
    return f"qa-data-key|{kek_id}|{context}".encode()


class KeyringSource(Protocol):
    """Where the KEKs are kept: a local file (``FileKeyringSource``, the embedded default) or
    the database, sealed under a master key (``storage.keyring_db.DbKeyringSource``)."""

    def describe(self) -> str: ...

    def exists(self) -> bool: ...

    def load(self) -> Keyring: ...

    def save(self, ring: Keyring) -> None: ...

    def create(self) -> Keyring:
        """A new keyring with one active KEK, saved; an existing one is loaded instead."""
        ...


class Keyring:
    """A set of KEKs with one active; ``wrap``/``unwrap`` protect per-recording data keys."""

    def __init__(self, source: KeyringSource, keks: dict[str, Kek], active_id: str) -> None:
        self.source = source
        self.keks = keks
        self.active_id = active_id
        self._retired: set[str] = set()

    # Persistence -------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Keyring:
        return FileKeyringSource(path).load()

    @classmethod
    def load_or_create(cls, path: Path) -> Keyring:
        return load_or_create(FileKeyringSource(path))

    @property
    def path(self) -> Path:
        """The keyring file (file sources only)."""
        if not isinstance(self.source, FileKeyringSource):
            raise KeyringError(f"the keyring is kept in {self.source.describe()}, not a file")
        return self.source.path

    def save(self) -> None:
        self.source.save(self)

    @classmethod
    def new(cls, source: KeyringSource) -> Keyring:
        kek = Kek(_new_kek_id(), AESGCM.generate_key(bit_length=256), _created_at())
        return cls(source, {kek.id: kek}, kek.id)

    # Keys ----------------------------------------------------------------------------
    @property
    def active(self) -> Kek:
        return self.keks[self.active_id]

    def add_active(self) -> Kek:
        """Create a new KEK and make it the active one (the old ones remain for unwrapping)."""
        kek = Kek(_new_kek_id(), AESGCM.generate_key(bit_length=256), _created_at())
        self.keks[kek.id] = kek
        self.active_id = kek.id
        return kek

    def retire(self, kek_id: str) -> None:
        if kek_id == self.active_id:
            raise KeyringError(f"{kek_id} is the active key; rotate before retiring it")
        if kek_id not in self.keks:
            raise KeyringError(f"no key {kek_id} in the keyring")
        del self.keks[kek_id]
        self._retired.add(kek_id)

    def wrap(self, data_key: bytes, context: str) -> tuple[str, bytes]:
        """Wrap ``data_key`` with the active KEK; ``context`` (recording id) is bound in."""
        kek = self.active
        nonce = os.urandom(12)
        return kek.id, nonce + AESGCM(kek.key).encrypt(nonce, data_key, _wrap_aad(kek.id, context))

    def unwrap(self, kek_id: str, wrapped: bytes, context: str) -> bytes:
        kek = self.keks.get(kek_id) or self._refreshed(kek_id)
        if kek is None:
            raise KeyringError(f"key {kek_id} is not in the keyring (retired or never present)")
        try:
            return AESGCM(kek.key).decrypt(wrapped[:12], wrapped[12:], _wrap_aad(kek_id, context))
        except InvalidTag:
            raise KeyringError(
                f"wrapped data key for {context} does not open with {kek_id}"
            ) from None

    def _refreshed(self, kek_id: str) -> Kek | None:
        """A KEK another node added since this one loaded (a rotation elsewhere): read the
        source once more before giving up."""
        if kek_id in self._retired:
            return None
        try:
            fresh = self.source.load()
        except KeyringError:
            return None
        if kek_id in fresh.keks:
            self.keks[kek_id] = fresh.keks[kek_id]
        return self.keks.get(kek_id)


def load_or_create(source: KeyringSource) -> Keyring:
    return source.load() if source.exists() else source.create()


class FileKeyringSource:
    """KEKs in a JSON file with mode 0600 (refused when others may read it)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"file://{self.path}"

    def exists(self) -> bool:
        return self.path.exists()

    def load(self) -> Keyring:
        path = self.path
        if not path.exists():
            raise KeyringError(f"keyring {path} does not exist (run `qa init`)")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyringError(
                f"keyring {path} is readable by others (mode {mode:o}); chmod 600 it"
            )
        try:
            data = json.loads(path.read_text())
            keks = {
                k["id"]: Kek(k["id"], base64.b64decode(k["key"]), k["created_at"])
                for k in data["keys"]
            }
            active = data["active"]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyringError(f"keyring {path} is malformed: {exc.__class__.__name__}") from None
        if active not in keks:
            raise KeyringError(f"keyring {path}: active key {active} is not in the file")
        return Keyring(self, keks, active)

    def create(self) -> Keyring:
        ring = Keyring.new(self)
        ring.save()
        return ring

    def save(self, ring: Keyring) -> None:
        """Write atomically with mode 0600 (temp file in the same directory, then rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "active": ring.active_id,
            "keys": [
                {"id": k.id, "key": base64.b64encode(k.key).decode(), "created_at": k.created_at}
                for k in ring.keks.values()
            ],
        }
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(payload, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


def _created_at() -> str:
    """Key creation time as stored in the keyring file (ISO, seconds)."""
    return utc_now().isoformat(timespec="seconds")
