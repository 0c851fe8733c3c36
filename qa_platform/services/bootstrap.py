"""``qa init``: directories, database schema, keyring."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

from qa_platform.services.context import Platform
from qa_platform.services.stores import keyring_source
from storage.keyring import load_or_create
from storage.migrate import upgrade


def initialise(platform: Platform) -> dict[str, str]:
    """Idempotent set-up of the embedded default (and schema upgrade in production)."""
    settings = platform.settings
    settings.ensure_dirs()
    _private_sqlite_file(settings.database)
    upgrade(settings.database)
    platform.store.prepare()  # the blob directory, or the S3 bucket
    source = keyring_source(settings)
    ring = load_or_create(source)
    platform.reload_keyring()
    return {
        "home": str(settings.home),
        "database": _redact(settings.database),
        "blobs": str(settings.blobs),
        "blob_store": platform.store.describe(),
        "keyring": str(settings.keyring),
        "keyring_source": source.describe(),
        "active_kek": ring.active_id,
    }


def _private_sqlite_file(url: str) -> None:
    """An embedded SQLite database holds personal data: owner-only (0600) like the keyring.

    Created with that mode before SQLite opens it, so it is never readable by others.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    if parsed.database == ":memory:":
        return
    path = Path(parsed.database)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    path.chmod(0o600)


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    return make_url(url).render_as_string(hide_password=True)
