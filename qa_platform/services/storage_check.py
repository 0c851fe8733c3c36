"""Consistency between the blob store and the database (``qa storage check``).

Ingest writes the encrypted blob first and the row second, removing the blob when the row
fails; a process killed between the two leaves an orphan blob. An orphan holds ciphertext whose
data key was never stored, so it is unreadable, but it still takes space and must not linger
(PIPL minimum storage). The same holds for the blob of a purged recording whose delete failed
after its key was shredded (an object store that was down). Missing blobs (a row whose blob is
gone, not purged) are reported, and writes a killed process left unfinished (a temp file, an
incomplete multipart upload) are listed and discarded by ``--repair``.

One listing of the store answers all three questions (no request per recording, which matters
on S3); a blob that looks missing is looked up once more before it is reported.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from sqlalchemy import select

from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.models import Recording


@dataclass(frozen=True)
class StorageReport:
    orphans: list[str]  # blobs no recording points to
    removed: list[str]  # orphans and shredded leftovers deleted by this run
    missing: list[int]  # live recordings (key not shredded) whose blob is gone: call ids
    shredded: list[str]  # blobs of purged recordings (key already shredded) still stored
    abandoned: list[str]  # unfinished writes older than min_age (discarded by repair)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_storage(
    platform: Platform, *, repair: bool = False, min_age_s: float = 3600.0, actor: str = "cli"
) -> StorageReport:
    """Find orphan, shredded and missing blobs; with ``repair`` delete the shredded ones and
    the orphans older than ``min_age_s``.

    The age guard keeps a blob that an ingest is writing right now (row not yet committed).
    The rows are read before the store is listed, so a blob whose row was committed before the
    read is always listed (ingest writes the blob first).
    """
    with platform.uow() as uow:
        rows = uow.session.execute(
            select(Recording.blob_id, Recording.call_id, Recording.wrapped_key.is_not(None))
        ).all()
    stored = set(platform.store.ids())
    live = {blob_id: call for blob_id, call, is_live in rows if is_live}
    purged = {blob_id for blob_id, _, is_live in rows if not is_live}
    orphans = sorted(stored - live.keys() - purged)
    shredded = sorted(stored & purged)
    missing = sorted(
        live[b] for b in live.keys() - stored if not platform.store.exists(b)
    )  # confirmed one by one: a blob written since the listing is not missing
    abandoned = platform.store.abandoned_writes(time.time() - min_age_s)
    removed: list[str] = []
    if repair:
        removed = shredded + _old_enough(platform, orphans, min_age_s)
        for blob_id in removed:
            platform.store.delete(blob_id)
        for name in abandoned:
            platform.store.discard_write(name)
        if removed or abandoned:
            _audit_removal(platform, removed, abandoned, actor)
    return StorageReport(orphans, removed, missing, shredded, abandoned)


def _old_enough(platform: Platform, blob_ids: list[str], min_age_s: float) -> list[str]:
    cutoff = time.time() - min_age_s
    return [b for b in blob_ids if platform.store.modified_at(b) < cutoff]


def _audit_removal(
    platform: Platform, removed: list[str], abandoned: list[str], actor: str
) -> None:
    with platform.uow() as uow:
        append_audit(
            uow.session,
            actor=actor,
            action="storage.remove_orphans",
            object_type="blob_store",
            object_id="-",
            details={"removed": removed, "abandoned_writes": len(abandoned)},
        )
        uow.commit()
