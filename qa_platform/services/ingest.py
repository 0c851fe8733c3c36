"""Ingest (录音入库): validate, encrypt into the blob store, record the call, audit.

Guarantees: a file is probed before anything is stored; the same audio (sha256) is reported as
the existing call; a failure at any step leaves no blob without a row and no row without a
blob; the customer phone number is stored masked; the plaintext is only ever read from the
caller's file, never copied.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from qa_platform.audio_probe import AudioInfo, AudioRejected, probe
from qa_platform.domain.calls import (
    METADATA_FIELDS,
    CallMetadata,
    MetadataError,
)
from qa_platform.domain.chat import CHANNEL_CHAT, ChatRejected, is_chat_file
from qa_platform.services.context import Platform
from qa_platform.services.ingest_chat import read_chat, store_chat
from qa_platform.services.ingest_people import (
    IngestRejected,
    check_external_id,
    new_call_row,
    resolve_people,
)
from qa_platform.services.pipeline import enqueue_calls
from storage.audit import append_audit
from storage.blobs import new_blob_id
from storage.crypto import encrypt_stream, new_data_key
from storage.models import Recording
from storage.rollups import refresh_calls

log = logging.getLogger(__name__)

MANIFEST_COLUMNS = {"file", *METADATA_FIELDS}


@dataclass(frozen=True)
class IngestResult:
    """One line of ``qa ingest --json``: file, call_id, status, error."""

    file: str
    call_id: int | None
    status: str  # created | duplicate | rejected
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class IngestItem:
    path: Path
    metadata: CallMetadata | None
    error: str | None = None  # a malformed manifest row
    channel: str | None = None  # "chat" forces a chat transcript; None: by the file name


@dataclass(frozen=True)
class _Checked:
    """A file that passed validation, with what was learnt about it."""

    path: Path
    name: str  # what messages and original_filename show
    info: AudioInfo
    digest: str
    meta: CallMetadata
    actor: str


@dataclass(frozen=True)
class _Sealed:
    """Where the encrypted blob went and its wrapped data key."""

    blob_id: str
    kek_id: str
    wrapped_key: bytes
    encrypted_size: int


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while data := fh.read(block):
            digest.update(data)
    return digest.hexdigest()


def ingest_many(
    platform: Platform,
    items: Iterable[IngestItem],
    actor: str = "cli",
    on_done: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Ingest each item; a bad one is reported and the batch goes on."""
    results = []
    for item in items:
        if item.error is not None or item.metadata is None:
            result = IngestResult(str(item.path), None, "rejected", item.error)
        else:
            result = ingest_file(
                platform, item.path, item.metadata, actor=actor, channel=item.channel
            )
        results.append(result)
        if on_done:
            on_done(result)
    return results


def ingest_file(
    platform: Platform,
    path: Path,
    meta: CallMetadata,
    actor: str = "cli",
    display_name: str | None = None,
    channel: str | None = None,
) -> IngestResult:
    """Ingest one file; never raises for bad input, returns a ``rejected`` result instead.

    ``display_name`` is the user's own file name when ``path`` is a server temp file (uploads):
    it is what messages and the stored ``original_filename`` show. A chat transcript
    (``channel="chat"``, or a ``.jsonl`` name) is stored as a chat interaction without audio.
    """
    name = display_name or str(path)
    if channel == CHANNEL_CHAT or (channel is None and is_chat_file(name)):
        return ingest_chat_file(platform, path, meta, actor=actor, name=name)
    try:
        if not path.is_file():
            raise IngestRejected(f"{name}: no such file, or not a regular file")
        info = probe(
            path,
            max_duration_s=platform.settings.max_duration_s,
            min_duration_s=platform.settings.min_duration_s,
            max_bytes=platform.settings.max_upload_bytes,
            display_name=name,
            max_channels=platform.settings.max_channels,
            max_sample_rate=platform.settings.max_sample_rate,
            max_decoded_samples=platform.settings.max_decoded_samples,
        )
        digest = sha256_file(path)
        existing = _existing_call(platform, digest)
        if existing is not None:
            return IngestResult(name, existing, "duplicate")
        check_external_id(platform, meta, name)
        result = _store(platform, _Checked(path, name, info, digest, meta, actor))
    except (AudioRejected, IngestRejected, MetadataError) as exc:
        return IngestResult(name, None, "rejected", str(exc))
    if result.status == "created" and result.call_id is not None:
        hand_off(platform, result.call_id)
    return result


def ingest_chat_file(
    platform: Platform, path: Path, meta: CallMetadata, actor: str, name: str
) -> IngestResult:
    """Ingest a JSON-lines chat (网络对话); a bad line rejects the file, nothing is stored."""
    try:
        data, chat = read_chat(path, name)
        call_id, created = store_chat(platform, name, data, chat, meta, actor)
    except (ChatRejected, IngestRejected, MetadataError) as exc:
        return IngestResult(name, None, "rejected", str(exc))
    if not created:
        return IngestResult(name, call_id, "duplicate")
    hand_off(platform, call_id)
    return IngestResult(name, call_id, "created")


def hand_off(platform: Platform, call_id: int) -> bool:
    """Send a just-committed call's first pipeline stage when a broker is configured.

    Returns whether a message went out. In the embedded default (no broker, eager Celery)
    nothing is sent: an upload never runs speech recognition inside the web request or the
    ingest command, and ``qa process`` does the work. A broker that is down does not undo the
    upload: the call is stored and the reconciler (``qa process`` / beat) sends it later.
    """
    if platform.settings.eager or platform.dispatch is None:
        return False
    try:
        return bool(enqueue_calls(platform, [call_id]))
    except Exception:  # the broker's errors vary by transport; the stored call is kept
        log.exception(
            "call %s stored; sending its first stage failed, the reconciler will", call_id
        )
        return False


def _existing_call(platform: Platform, digest: str) -> int | None:
    with platform.uow() as uow:
        return uow.session.scalar(select(Recording.call_id).where(Recording.sha256 == digest))


def _store(platform: Platform, item: _Checked) -> IngestResult:
    blob_id, data_key = new_blob_id(), new_data_key()
    with open(item.path, "rb") as source:
        encrypted_size = platform.store.write(
            blob_id, encrypt_stream(source, data_key, blob_id, platform.settings.chunk_size)
        )
    try:
        kek_id, wrapped = platform.keyring.wrap(data_key, blob_id)
        call_id = _insert_rows(platform, item, _Sealed(blob_id, kek_id, wrapped, encrypted_size))
    except BaseException as exc:
        platform.store.delete(blob_id)  # no blob without a row
        if isinstance(exc, IntegrityError):
            existing = _existing_call(platform, item.digest)
            if existing is not None:  # the same audio arrived concurrently
                return IngestResult(item.name, existing, "duplicate")
            check_external_id(platform, item.meta, item.name)
        raise
    return IngestResult(item.name, call_id, "created")


def _insert_rows(platform: Platform, item: _Checked, sealed: _Sealed) -> int:
    meta, info = item.meta, item.info
    now = platform.clock.now()
    started = meta.started_at or now
    with platform.uow() as uow:
        agent, team = resolve_people(uow.session, meta, platform.settings.ingest_strict, item.name)
        call = new_call_row(
            platform,
            meta,
            (agent, team),
            started,
            item.name,
            agent_channel=meta.agent_channel,
            duration_s=info.duration_s,
            channels=info.channels,
            sample_rate=info.sample_rate,
            audio_format=f"{info.format}/{info.codec}",
        )
        uow.session.add(call)
        uow.flush()
        refresh_calls(uow.session, [call.id])  # daily report roll-ups, same transaction
        uow.session.add(
            Recording(
                call_id=call.id,
                blob_id=sealed.blob_id,
                sha256=item.digest,
                size_bytes=item.path.stat().st_size,
                encrypted_size=sealed.encrypted_size,
                chunk_size=platform.settings.chunk_size,
                kek_id=sealed.kek_id,
                wrapped_key=sealed.wrapped_key,
                created_at=now,
            )
        )
        append_audit(
            uow.session,
            actor=item.actor,
            action="call.ingest",
            object_type="call",
            object_id=call.id,
            details={
                "file": Path(item.name).name,
                "sha256": item.digest,
                "duration_s": info.duration_s,
            },
        )
        uow.commit()
        return call.id


def check_manifest_header(fieldnames: Sequence[str] | None, name: str) -> None:
    """A manifest's header names the ``file`` column and only known columns (else rejected)."""
    header = set(fieldnames or [])
    if "file" not in header:
        raise IngestRejected(f"manifest {name}: the header has no 'file' column")
    unknown = header - MANIFEST_COLUMNS
    if unknown:
        raise IngestRejected(f"manifest {name}: unknown columns {sorted(unknown)}")


def read_manifest(manifest: Path) -> Iterator[IngestItem]:
    """Rows of a CSV manifest; relative file paths are relative to the manifest's folder."""
    try:
        fh = open(manifest, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise IngestRejected(f"manifest {manifest}: cannot be read ({exc.strerror})") from None
    with fh:
        reader = csv.DictReader(fh)
        check_manifest_header(reader.fieldnames, str(manifest))
        for line, row in enumerate(reader, start=2):
            yield _manifest_item(manifest, line, row)


def _manifest_item(manifest: Path, line: int, row: dict[str, str | None]) -> IngestItem:
    where = f"{manifest}:{line}"
    if None in row:  # more cells than header columns
        return IngestItem(Path(where), None, f"{where}: row has more cells than the header")
    file = (row.get("file") or "").strip()
    if not file:
        return IngestItem(Path(where), None, f"{where}: row has no file")
    path = Path(file) if Path(file).is_absolute() else manifest.parent / file
    try:
        return IngestItem(path, CallMetadata.parse(row))
    except MetadataError as exc:
        return IngestItem(path, None, f"{where}: {exc}")
