"""The restore drill of docs/deploy.md ("Backups"), performed on a small data set.

Back up the three things a centre must keep apart (the database, with the sealed keyring in it;
the master key; the S3 bucket), restore the database into a fresh one (``pg_dump`` /
``pg_restore`` on PostgreSQL, SQLite's online backup on SQLite), point a new node with an empty
``QA_HOME`` at it with the backed-up blobs and the master key, and check that every recording
decrypts to what was ingested and that ``qa audit verify`` accepts the restored chain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from qa_platform.cli import main
from qa_platform.domain.calls import CallMetadata
from qa_platform.services.blob_migration import migrate_blobs
from qa_platform.services.bootstrap import initialise
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.recordings import export_audio, plaintext_tempfile
from qa_platform.services.storage_check import check_storage
from qa_platform.services.stores import store_for_url
from qa_platform.settings import Settings, set_settings
from storage.db import make_engine
from storage.models import Recording
from tests.conftest import PG_ADMIN_URL, backend
from tests.helpers.files import make_audio
from tests.helpers.platforms import make_platform
from tests.helpers.seaweedfs import S3Server


def _production_like(settings: Settings, s3_server: S3Server) -> Platform:
    s = replace(
        s3_server.settings(settings),
        keyring_url="db://",
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    s.validate()
    set_settings(s)
    node = make_platform(s)
    initialise(node)
    return node


def _dump_and_restore(url: str, tmp: Path) -> str:
    """The database backup and its restore into a fresh database; returns the new URL."""
    if backend() == "sqlite":
        copy = tmp / "restored.sqlite3"
        source = sqlite3.connect(make_url(url).database or "")
        target = sqlite3.connect(copy)
        with target:
            source.backup(target)  # consistent while writers run, like pg_dump
        source.close()
        target.close()
        return f"sqlite:///{copy}"
    dump = tmp / "qa.dump"
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(dump), libpq], check=True)
    name = f"qa_restore_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    restored = make_url(url).set(database=name)
    target = restored.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)], check=True
    )
    return restored.render_as_string(hide_password=False)


def _drop(url: str) -> None:
    if backend() == "sqlite":
        return
    make_engine(url).dispose()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def test_restore_drill(settings: Settings, s3_server: S3Server, tmp_path: Path) -> None:
    live = _production_like(settings, s3_server)
    originals = {}
    for seed in (1, 2):
        wav = make_audio(tmp_path / f"call{seed}.wav", seconds=3.0, seed=seed)
        call_id = ingest_file(live, wav, CallMetadata()).call_id
        assert call_id is not None
        originals[call_id] = hashlib.sha256(wav.read_bytes()).hexdigest()
    export_audio(live, call_id, tmp_path / "played.wav", actor="drill")  # an audited event

    # Backups: the bucket (a verified copy to the backup location), then the database.
    backup_url = f"s3://qa-tests/backup-{secrets.token_hex(4)}"
    backup = store_for_url(live.settings, "backup", backup_url)
    assert migrate_blobs(live, backup).recordings == 2
    restored_url = _dump_and_restore(live.settings.database, tmp_path)
    try:
        # Restore: a new node, empty home, the restored database, the backed-up blobs and the
        # master key kept apart from both.
        node = replace(
            live.settings,
            home=tmp_path / "restored-node",
            database_url=restored_url,
            blob_url=backup_url,
        )
        node.validate()
        set_settings(node)
        restored = make_platform(node)
        for call_id, digest in originals.items():
            with plaintext_tempfile(restored, call_id) as path:
                assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        with restored.uow() as uow:
            assert len(uow.session.scalars(select(Recording.id)).all()) == 2
        result = CliRunner().invoke(main, ["audit", "verify", "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["ok"] and report["checked"] >= 3
        assert check_storage(restored).missing == []
    finally:
        _drop(restored_url)
