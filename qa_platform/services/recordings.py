"""Reading recordings back: whole-file export and byte ranges, audited, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from qa_platform.domain.errors import NotFound
from qa_platform.services.context import Platform
from storage import crypto
from storage.audit import append_audit
from storage.models import Recording


class RecordingUnavailable(NotFound):
    """No such call, or its recording was purged (crypto-shredded)."""


@dataclass(frozen=True)
class RecordingKey:
    blob_id: str
    data_key: bytes
    encrypted_size: int


@dataclass(frozen=True)
class _Stored:
    blob_id: str
    kek_id: str
    wrapped_key: bytes


def _readable(platform: Platform, call_id: int) -> _Stored:
    with platform.uow() as uow:
        rec = uow.session.scalar(select(Recording).where(Recording.call_id == call_id))
    if rec is None:
        raise RecordingUnavailable(f"call {call_id} has no recording")
    if rec.wrapped_key is None or rec.kek_id is None:
        raise RecordingUnavailable(f"call {call_id}: recording was purged (retention expired)")
    return _Stored(rec.blob_id, rec.kek_id, rec.wrapped_key)


def recording_blob_id(platform: Platform, call_id: int) -> str:
    """The server-made id of the call's readable recording (unique across databases and never
    reused); ``RecordingUnavailable`` when there is none or it was purged."""
    return _readable(platform, call_id).blob_id


def _key_for(platform: Platform, call_id: int) -> RecordingKey:
    rec = _readable(platform, call_id)
    data_key = platform.keyring.unwrap(rec.kek_id, rec.wrapped_key, rec.blob_id)
    return RecordingKey(rec.blob_id, data_key, platform.store.size(rec.blob_id))


def plaintext_size(platform: Platform, call_id: int) -> int:
    key = _key_for(platform, call_id)
    with platform.store.open(key.blob_id) as blob:
        return crypto.plaintext_size(blob, key.encrypted_size, key.blob_id)


def read_range(platform: Platform, call_id: int, start: int, end: int) -> bytes:
    """Plaintext bytes ``[start, end)``, decrypting only the chunks that hold them."""
    key = _key_for(platform, call_id)
    with platform.store.open(key.blob_id) as blob:
        return crypto.decrypt_range(blob, key.encrypted_size, key.data_key, key.blob_id, start, end)


@contextmanager
def plaintext_tempfile(platform: Platform, call_id: int, suffix: str = ".audio") -> Iterator[Path]:
    """Decrypt into a private temp file that is removed on exit (workers' temp space)."""
    key = _key_for(platform, call_id)
    fd, name = tempfile.mkstemp(prefix=f"qa-call{call_id}-", suffix=suffix)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, platform.store.open(key.blob_id) as blob:
            for chunk in crypto.decrypt_chunks(blob, key.encrypted_size, key.data_key, key.blob_id):
                out.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)


def export_audio(platform: Platform, call_id: int, out: Path, actor: str) -> int:
    """Decrypt a recording to ``out`` (audited). A bad blob leaves no file at ``out``."""
    tmp = out.with_name(f".{out.name}.partial")
    key = _key_for(platform, call_id)
    with platform.uow() as uow:  # audited before any plaintext leaves the store
        append_audit(
            uow.session,
            actor=actor,
            action="call.audio_export",
            object_type="call",
            object_id=call_id,
            details={"out": out.name},
        )
        uow.commit()
    size = 0
    try:
        with open(tmp, "wb") as fh, platform.store.open(key.blob_id) as blob:
            for chunk in crypto.decrypt_chunks(blob, key.encrypted_size, key.data_key, key.blob_id):
                fh.write(chunk)
                size += len(chunk)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return size
