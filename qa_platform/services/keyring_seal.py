"""Moving a file keyring into the database, sealed (``qa keys seal``), and new master keys.

The step from one machine to nodes that share no disk: docs/deploy.md, "Keys".
"""

from __future__ import annotations

import base64
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from qa_platform.domain.errors import Conflict
from qa_platform.services.context import Platform
from qa_platform.services.stores import keyring_source
from qa_platform.settings import SettingsError
from storage.audit import append_audit
from storage.keyring import FileKeyringSource, Keyring


def new_master_key() -> str:
    """A fresh master key, base64 (``qa keys master-key``)."""
    return base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class SealReport:
    source: str
    keys: list[str]
    active: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def seal_file_keyring(platform: Platform, path: Path, actor: str = "cli") -> SealReport:
    """Copy the KEKs of the keyring file ``path`` into the database, sealed under this node's
    master key (``qa keys seal``): the step from one machine to nodes that share no disk."""
    settings = platform.settings
    if not settings.keyring_in_database:
        raise SettingsError("set QA_KEYRING_URL=db:// and a master key before sealing")
    target = keyring_source(settings)
    if target.exists():
        raise Conflict("the database already holds a keyring; nothing was changed")
    ring = FileKeyringSource(path).load()
    Keyring(target, dict(ring.keks), ring.active_id).save()
    with platform.uow() as uow:
        append_audit(
            uow.session,
            actor=actor,
            action="keys.seal",
            object_type="keyring",
            object_id="db://",
            details={"keys": sorted(ring.keks), "active": ring.active_id},
        )
        uow.commit()
    platform.reload_keyring()
    return SealReport(str(path), sorted(ring.keks), ring.active_id)
