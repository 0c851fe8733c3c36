"""Which blob store and keyring a node uses, from settings (built by the composition root).

Blobs: ``QA_BLOB_URL`` (``file://DIR`` default, or ``s3://bucket/prefix`` with ``QA_S3_*``),
read-through to ``QA_BLOB_FALLBACK_URL`` during a migration; ``qa storage migrate`` builds its
target here too. The S3 client library is imported only when S3 is chosen.

Keys: ``QA_KEYRING_URL``: ``file://PATH`` (default ``$QA_HOME/keyring.json``) or ``db://``, the
KEKs sealed in the database under the master key this node is given (``QA_MASTER_KEY``, or
``QA_MASTER_KEY_FILE`` with mode 0600), so workers with no shared disk reach them.
"""

from __future__ import annotations

import stat
from pathlib import Path

from qa_platform.settings import (
    BlobUrl,
    Settings,
    SettingsError,
    decode_master_key,
    parse_blob_url,
)
from storage.blobs import BlobStore, FallbackBlobStore, LocalBlobStore
from storage.keyring import FileKeyringSource, KeyringSource
from storage.keyring_db import DbKeyringSource


def store_at(settings: Settings, location: BlobUrl) -> BlobStore:
    """The store at ``location``; S3 credentials, region and limits come from ``settings``."""
    if location.kind == "file":
        assert location.path is not None
        return LocalBlobStore(location.path)
    from storage.s3 import S3BlobStore, S3Config

    return S3BlobStore(
        S3Config(
            bucket=location.bucket,
            prefix=location.prefix,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            endpoint=settings.s3_endpoint.rstrip("/"),
            region=settings.s3_region,
            part_size=settings.s3_part_size,
            max_attempts=settings.s3_max_attempts,
            timeout_s=settings.s3_timeout_s,
        )
    )


def store_for_url(settings: Settings, name: str, url: str) -> BlobStore:
    """The store a command-line URL names (``--to``); the error names the option."""
    location = parse_blob_url(name, url)
    if location.kind == "s3" and not (settings.s3_access_key and settings.s3_secret_key):
        raise SettingsError(f"{name} is s3://: set QA_S3_ACCESS_KEY and QA_S3_SECRET_KEY")
    return store_at(settings, location)


def configured_store(settings: Settings) -> BlobStore:
    """``QA_BLOB_URL``, read-through to ``QA_BLOB_FALLBACK_URL`` while a migration runs."""
    primary = store_at(settings, settings.blob_location)
    fallback = settings.blob_fallback
    if fallback is None:
        return primary
    return FallbackBlobStore(primary, store_at(settings, fallback))


def keyring_source(settings: Settings) -> KeyringSource:
    if settings.keyring_in_database:
        return DbKeyringSource(settings, read_master_key(settings))
    return FileKeyringSource(settings.keyring)


def read_master_key(settings: Settings) -> bytes:
    """The master key from ``QA_MASTER_KEY`` or the file ``QA_MASTER_KEY_FILE`` names (refused
    when others may read the file, like the keyring file)."""
    if settings.master_key:
        return decode_master_key("QA_MASTER_KEY", settings.master_key)
    path = Path(settings.master_key_file)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        raw = path.read_text()
    except OSError as exc:
        raise SettingsError(f"QA_MASTER_KEY_FILE={path}: cannot read it ({exc.strerror})") from None
    if mode & 0o077:
        raise SettingsError(f"QA_MASTER_KEY_FILE={path} is readable by others; chmod 600 it")
    return decode_master_key("QA_MASTER_KEY_FILE", raw)
