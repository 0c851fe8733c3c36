"""Consistency between the blob store and the database (``qa storage check``).

Ingest writes the encrypted blob first and the row second, removing the blob when the row
fails; a process killed between the two leaves an orphan blob. An orphan holds ciphertext whose
data key was never stored, so it is unreadable, but it still takes space and must not linger
(PIPL minimum storage). Missing blobs (a row whose blob is gone, not purged) are reported.
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
    removed: list[str]  # orphans deleted by this run
    missing: list[int]  # live recordings (key not shredded) whose blob is gone: call ids

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_storage(
    platform: Platform, *, repair: bool = False, min_age_s: float = 3600.0, actor: str = "cli"
) -> StorageReport:
    """Find orphan and missing blobs; with ``repair`` delete orphans older than ``min_age_s``.

    The age guard keeps a blob that an ingest is writing right now (row not yet committed).
    """
    with platform.uow() as uow:
        rows = uow.session.execute(
            select(Recording.blob_id, Recording.call_id, Recording.wrapped_key.is_not(None))
        ).all()
    known = {blob_id for blob_id, _, _ in rows}
    orphans = sorted(set(platform.store.ids()) - known)
    missing = sorted(call for blob, call, live in rows if live and not platform.store.exists(blob))
    removed: list[str] = []
    if repair:
        cutoff = time.time() - min_age_s
        removed = [b for b in orphans if platform.store.modified_at(b) < cutoff]
        for blob_id in removed:
            platform.store.delete(blob_id)
        if removed:
            with platform.uow() as uow:
                append_audit(
                    uow.session,
                    actor=actor,
                    action="storage.remove_orphans",
                    object_type="blob_store",
                    object_id="-",
                    details={"removed": removed},
                )
                uow.commit()
    return StorageReport(orphans, removed, missing)
