"""Blob stores. Blobs are immutable and named by server-made ids.

``LocalBlobStore`` keeps them in a directory (the embedded default); ``storage.s3`` keeps them
in an S3-compatible bucket; ``FallbackBlobStore`` reads a second store while blobs are being
migrated from it. Every store has the methods of ``BlobStore``.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from qa_platform.domain.errors import QaError

_BLOB_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobNotFound(QaError, FileNotFoundError):
    """A blob the database points to is missing from the store."""


class BlobExists(QaError, FileExistsError):
    """A write named a blob that is already stored (blobs are immutable)."""


def new_blob_id() -> str:
    return secrets.token_hex(16)


def check_blob_id(blob_id: str) -> str:
    if not _BLOB_ID.match(blob_id):
        raise ValueError(f"invalid blob id {blob_id!r}")
    return blob_id


def is_blob_id(name: str) -> bool:
    return bool(_BLOB_ID.match(name))


class BlobStore(Protocol):
    """What the services need of a blob store (local directory, S3 bucket, fallback pair)."""

    def write(self, blob_id: str, chunks: Iterable[bytes]) -> int: ...

    def open(self, blob_id: str) -> BinaryIO: ...

    def size(self, blob_id: str) -> int: ...

    def modified_at(self, blob_id: str) -> float: ...

    def exists(self, blob_id: str) -> bool: ...

    def delete(self, blob_id: str) -> None: ...

    def ids(self) -> Iterator[str]: ...

    def describe(self) -> str: ...

    def prepare(self) -> None:
        """Create the directory or bucket if missing (``qa init``)."""
        ...

    def abandoned_writes(self, older_than: float) -> list[str]:
        """Writes a killed process left unfinished, started before ``older_than`` (epoch s):
        temp files, incomplete multipart uploads. Invisible to reads, but they take space."""
        ...

    def discard_write(self, name: str) -> None: ...


class LocalBlobStore:
    """Blobs at ``root/ab/cd/<id>``; writes go to a temp file and are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, blob_id: str) -> Path:
        check_blob_id(blob_id)
        return self.root / blob_id[:2] / blob_id[2:4] / blob_id

    def describe(self) -> str:
        return f"file://{self.root}"

    def prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def abandoned_writes(self, older_than: float) -> list[str]:
        return sorted(
            str(p.relative_to(self.root))
            for p in self.root.glob("*/*/.*.partial")
            if p.stat().st_mtime < older_than
        )

    def discard_write(self, name: str) -> None:
        path = self.root / name
        if path.parent.parent.parent != self.root or not path.name.endswith(".partial"):
            raise ValueError(f"not an unfinished write: {name!r}")
        path.unlink(missing_ok=True)

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
                raise BlobExists(f"blob {blob_id} already exists (blobs are immutable)")
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
        try:
            return self._path(blob_id).stat().st_mtime
        except FileNotFoundError:
            raise BlobNotFound(f"blob {blob_id} is missing from the store") from None

    def exists(self, blob_id: str) -> bool:
        return self._path(blob_id).exists()

    def delete(self, blob_id: str) -> None:
        self._path(blob_id).unlink(missing_ok=True)

    def ids(self) -> Iterator[str]:
        for path in self.root.glob("*/*/*"):
            if _BLOB_ID.match(path.name):
                yield path.name


class FallbackBlobStore:
    """Reads ``primary`` first and ``fallback`` second; writes go to ``primary`` only.

    The switch-over of a migration (``qa storage migrate``): every node runs with the new store
    as primary and the old one as fallback, so a blob not yet copied is still read, while new
    recordings land in the new store. A delete (retention purge) removes the blob from both.
    """

    def __init__(self, primary: BlobStore, fallback: BlobStore) -> None:
        self.primary, self.fallback = primary, fallback

    def describe(self) -> str:
        return f"{self.primary.describe()} (reading {self.fallback.describe()} second)"

    def prepare(self) -> None:
        self.primary.prepare()

    def abandoned_writes(self, older_than: float) -> list[str]:
        return self.primary.abandoned_writes(older_than)

    def discard_write(self, name: str) -> None:
        self.primary.discard_write(name)

    def _holder(self, blob_id: str) -> BlobStore:
        return self.primary if self.primary.exists(blob_id) else self.fallback

    def write(self, blob_id: str, chunks: Iterable[bytes]) -> int:
        if self.fallback.exists(blob_id):
            raise BlobExists(f"blob {blob_id} already exists (blobs are immutable)")
        return self.primary.write(blob_id, chunks)

    def open(self, blob_id: str) -> BinaryIO:
        return self._holder(blob_id).open(blob_id)

    def size(self, blob_id: str) -> int:
        return self._holder(blob_id).size(blob_id)

    def modified_at(self, blob_id: str) -> float:
        return self._holder(blob_id).modified_at(blob_id)

    def exists(self, blob_id: str) -> bool:
        return self.primary.exists(blob_id) or self.fallback.exists(blob_id)

    def delete(self, blob_id: str) -> None:
        self.primary.delete(blob_id)
        self.fallback.delete(blob_id)

    def ids(self) -> Iterator[str]:
        seen: set[str] = set()
        for blob_id in self.primary.ids():
            seen.add(blob_id)
            yield blob_id
        yield from (b for b in self.fallback.ids() if b not in seen)
