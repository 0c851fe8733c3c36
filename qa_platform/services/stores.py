"""Which blob store a node uses (``QA_BLOB_URL``, ``QA_BLOB_FALLBACK_URL``, ``QA_S3_*``).

Built by the composition root (``Platform.store``) and by ``qa storage migrate`` for its
target; the S3 client library is imported only when S3 is chosen.
"""

from __future__ import annotations

from qa_platform.settings import BlobUrl, Settings, parse_blob_url
from storage.blobs import BlobStore, FallbackBlobStore, LocalBlobStore


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
        from qa_platform.settings import SettingsError

        raise SettingsError(f"{name} is s3://: set QA_S3_ACCESS_KEY and QA_S3_SECRET_KEY")
    return store_at(settings, location)


def configured_store(settings: Settings) -> BlobStore:
    """``QA_BLOB_URL``, read-through to ``QA_BLOB_FALLBACK_URL`` while a migration runs."""
    primary = store_at(settings, settings.blob_location)
    fallback = settings.blob_fallback
    if fallback is None:
        return primary
    return FallbackBlobStore(primary, store_at(settings, fallback))
