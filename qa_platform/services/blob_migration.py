"""Moving every recording's blob to another store (``qa storage migrate --to URL``).

Each live recording's encrypted blob is copied as it is (same bytes, same id: nothing is
decrypted), then read back from the target and checked against the source (size, SHA-256)
and the size recorded at ingest. Only then is it recorded in ``blob_copies``: a run killed at
any point loses nothing (the source is never changed) and the next run skips what is recorded,
verifies what it finds in the target unrecorded (an upload that finished just before the kill),
and copies the rest. Objects appear in S3 only when complete, so a half-done upload is never
taken for a copy.

The switch-over needs no downtime (docs/deploy.md, "Storage"): nodes move to the new store with
the old one as read-through fallback (``QA_BLOB_FALLBACK_URL``), a last run copies what was
written to the old store meanwhile, then the fallback is dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from qa_platform.domain.errors import Conflict, Invalid
from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.blobs import BlobNotFound, BlobStore
from storage.models import Recording
from storage.models_scaleout import BlobCopy

READ_BLOCK = 1024 * 1024


class BlobCopyMismatch(Conflict):
    """A blob read back from the target differs from the source (or from its recorded size)."""


@dataclass(frozen=True)
class MigrationReport:
    source: str
    target: str
    recordings: int  # live recordings whose blob is now verified in the target
    copied: int  # copied by this run
    already: int  # verified earlier, or found complete in the target and verified now
    bytes_copied: int
    missing: list[int]  # call ids whose blob is in neither store
    dropped: list[str]  # copies of recordings purged since they were copied, deleted

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class _Pending:
    recording_id: int
    call_id: int
    blob_id: str
    encrypted_size: int


def migrate_blobs(
    platform: Platform,
    target: BlobStore,
    *,
    source: BlobStore | None = None,
    batch: int = 200,
    actor: str = "cli",
    on_blob: Callable[[str], None] | None = None,
) -> MigrationReport:
    """Copy and verify every live recording's blob from ``source`` (default: the configured
    store) to ``target``; safe to run again at any time, and while the platform runs."""
    source = source or platform.store
    if source.describe() == target.describe():
        raise Invalid(f"--to {target.describe()} is the store the blobs are read from")
    target.prepare()
    url = target.describe()
    copied = already = size = 0
    missing: list[int] = []
    for item in _unverified(platform, url, batch):
        outcome = _migrate_one(source, target, item)
        if outcome is None:
            missing.append(item.call_id)
            continue
        digest, was_copied = outcome
        _record(platform, url, item, digest)
        copied, already = copied + was_copied, already + (not was_copied)
        size += item.encrypted_size if was_copied else 0
        if on_blob:
            on_blob(item.blob_id)
    dropped = _drop_purged(platform, target, url)
    report = MigrationReport(
        source.describe(),
        url,
        _verified_count(platform, url),
        copied,
        already,
        size,
        missing,
        dropped,
    )
    _audit(platform, report, actor)
    return report


def _unverified(platform: Platform, url: str, batch: int) -> Iterator[_Pending]:
    """Live recordings with no verified copy in ``url``, by id, in batches (keyset paging:
    recordings ingested while the run goes on are reached too)."""
    after = 0
    while True:
        with platform.uow() as uow:
            rows = uow.session.execute(
                select(Recording.id, Recording.call_id, Recording.blob_id, Recording.encrypted_size)
                .outerjoin(
                    BlobCopy, and_(BlobCopy.target == url, BlobCopy.blob_id == Recording.blob_id)
                )
                .where(Recording.id > after, Recording.wrapped_key.is_not(None))
                .where(BlobCopy.id.is_(None))
                .order_by(Recording.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        for row in rows:
            yield _Pending(*row)
        after = rows[-1][0]


def _migrate_one(source: BlobStore, target: BlobStore, item: _Pending) -> tuple[str, bool] | None:
    """(SHA-256, copied by this call) once the target holds a verified copy; None when the
    blob is in neither store."""
    blob_id = item.blob_id
    if target.exists(blob_id):
        found = _digest(target, blob_id)
        if source.exists(blob_id) and _digest(source, blob_id) != found:
            raise BlobCopyMismatch(f"blob {blob_id}: the copy in {target.describe()} differs")
        _check_size(target, item, found)
        return found[0], False
    if not source.exists(blob_id):
        return None
    hasher = hashlib.sha256()
    target.write(blob_id, _hashed(source, blob_id, hasher))
    copy = _digest(target, blob_id)
    if copy != (hasher.hexdigest(), item.encrypted_size):
        target.delete(blob_id)  # our own bad copy: gone, the source stays
        raise BlobCopyMismatch(f"blob {blob_id}: the copy read back from the target differs")
    return copy[0], True


def _hashed(store: BlobStore, blob_id: str, hasher: hashlib._Hash) -> Iterator[bytes]:
    with store.open(blob_id) as fh:
        while block := fh.read(READ_BLOCK):
            hasher.update(block)
            yield block


def _digest(store: BlobStore, blob_id: str) -> tuple[str, int]:
    """(SHA-256, size) of the blob as the store returns it."""
    hasher, size = hashlib.sha256(), 0
    try:
        with store.open(blob_id) as fh:
            while block := fh.read(READ_BLOCK):
                hasher.update(block)
                size += len(block)
    except BlobNotFound:
        raise BlobCopyMismatch(f"blob {blob_id} vanished from {store.describe()}") from None
    return hasher.hexdigest(), size


def _check_size(target: BlobStore, item: _Pending, found: tuple[str, int]) -> None:
    if found[1] != item.encrypted_size:
        raise BlobCopyMismatch(
            f"blob {item.blob_id} in {target.describe()} has {found[1]} bytes, "
            f"ingest stored {item.encrypted_size}"
        )


def _record(platform: Platform, url: str, item: _Pending, digest: str) -> None:
    with platform.uow() as uow:
        uow.session.add(
            BlobCopy(
                target=url,
                blob_id=item.blob_id,
                size_bytes=item.encrypted_size,
                sha256=digest,
                copied_at=platform.clock.now(),
            )
        )
        try:
            uow.commit()
        except IntegrityError:
            pass  # another run recorded the same verified copy


def _drop_purged(platform: Platform, target: BlobStore, url: str) -> list[str]:
    """Copies of recordings purged (key shredded) after they were copied: deleted from the
    target like the purge deleted them from the source, and their progress rows with them."""
    with platform.uow() as uow:
        copies = uow.session.scalars(
            select(BlobCopy)
            .join(Recording, Recording.blob_id == BlobCopy.blob_id)
            .where(BlobCopy.target == url, Recording.wrapped_key.is_(None))
        ).all()
        dropped = [c.blob_id for c in copies if target.exists(c.blob_id)]
        for blob_id in dropped:
            target.delete(blob_id)
        for copy in copies:
            uow.session.delete(copy)
        uow.commit()
    return dropped


def _verified_count(platform: Platform, url: str) -> int:
    with platform.uow() as uow:
        return int(
            uow.session.scalar(
                select(func.count(BlobCopy.id))
                .join(Recording, Recording.blob_id == BlobCopy.blob_id)
                .where(BlobCopy.target == url, Recording.wrapped_key.is_not(None))
            )
            or 0
        )


def _audit(platform: Platform, report: MigrationReport, actor: str) -> None:
    with platform.uow() as uow:
        append_audit(
            uow.session,
            actor=actor,
            action="storage.migrate",
            object_type="blob_store",
            object_id=report.target,
            details={
                "source": report.source,
                "copied": report.copied,
                "already": report.already,
                "missing": report.missing,
                "dropped": len(report.dropped),
            },
        )
        uow.commit()
