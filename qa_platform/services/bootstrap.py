"""``qa init``: directories, database schema, keyring."""

from __future__ import annotations

from qa_platform.services.context import Platform
from storage.keyring import Keyring
from storage.migrate import upgrade


def initialise(platform: Platform) -> dict[str, str]:
    """Idempotent set-up of the embedded default (and schema upgrade in production)."""
    settings = platform.settings
    settings.ensure_dirs()
    upgrade(settings.database)
    ring = Keyring.load_or_create(settings.keyring)
    platform.reload_keyring()
    return {
        "home": str(settings.home),
        "database": _redact(settings.database),
        "blobs": str(settings.blobs),
        "keyring": str(settings.keyring),
        "active_kek": ring.active_id,
    }


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
