"""Blob store on a (shared) directory. Blobs are immutable and named by server-made ids."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from qa_platform.domain.errors import QaError

_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobNotFound(QaError, FileNotFoundError):
    """A blob the database points to is missing from the store."""


def new_blob_id() -> str:
    return secrets.token_hex(16)


class LocalBlobStore:
    """Blobs at ``root/ab/cd/<id>``; writes go to a temp file and are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, blob_id: str) -> Path:
        if not _BLOB_ID.match(blob_id):
            raise ValueError(f"invalid blob id {blob_id!r}")
        return self.root / blob_id[:2] / blob_id[2:4] / blob_id

    def write(self, blob_id: str, chunks: Iterable[bytes]) -> int:
        """Store ``chunks`` under ``blob_id`` atomically; returns the size written."""
        path = self._path(blob_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{blob_id}.{secrets.token_hex(4)}.partial")
        size = 0
        try:
            with open(tmp, "xb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    size += len(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if path.exists():
                raise FileExistsError(f"blob {blob_id} already exists (blobs are immutable)")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return size

    def open(self, blob_id: str) -> BinaryIO:
        try:
            return open(self._path(blob_id), "rb")
        except FileNotFoundError:
            raise BlobNotFound(f"blob {blob_id} is missing from the store") from None

    def size(self, blob_id: str) -> int:
        try:
            return self._path(blob_id).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(f"blob {blob_id} is missing from the store") from None

    def modified_at(self, blob_id: str) -> float:
        """When the blob was written (seconds since the epoch)."""
        return self._path(blob_id).stat().st_mtime

    def exists(self, blob_id: str) -> bool:
        return self._path(blob_id).exists()

    def delete(self, blob_id: str) -> None:
        self._path(blob_id).unlink(missing_ok=True)

    def ids(self) -> Iterator[str]:
        for path in self.root.glob("*/*/*"):
            if _BLOB_ID.match(path.name):
                yield path.name
