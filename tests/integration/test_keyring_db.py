"""The keyring sealed in the database (``QA_KEYRING_URL=db://``): a node with an empty
``QA_HOME`` and the master key reads recordings ingested elsewhere; without the right master key
nothing opens; rotation, retirement and sealing a file keyring."""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli import main
from qa_platform.domain.calls import CallMetadata
from qa_platform.domain.errors import Conflict
from qa_platform.services import keys
from qa_platform.services.bootstrap import initialise
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.keyring_seal import seal_file_keyring
from qa_platform.services.recordings import read_range
from qa_platform.settings import Settings, SettingsError, set_settings
from storage.keyring import KeyringError
from storage.models_scaleout import SealedKek
from tests.helpers.files import make_audio
from tests.helpers.platforms import make_platform


def _master() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _node(settings: Settings, home: Path, master: str) -> Platform:
    """Another node: its own (empty) QA_HOME, the same database and blobs, the given master
    key."""
    s = replace(
        settings, home=home, blob_dir=str(settings.blobs), keyring_url="db://", master_key=master
    )
    s.validate()
    return make_platform(s)


@pytest.fixture
def master() -> str:
    return _master()


@pytest.fixture
def web(settings: Settings, tmp_path: Path, master: str) -> Platform:
    """The node that ingests: keyring sealed in the database, blobs in a shared directory."""
    node = _node(
        replace(settings, blob_dir=str(tmp_path / "shared-blobs")), tmp_path / "web", master
    )
    set_settings(node.settings)
    initialise(node)
    return node


def _ingest(node: Platform, tmp: Path) -> tuple[int, bytes]:
    wav = make_audio(tmp / "a.wav", seconds=3.0)
    call_id = ingest_file(node, wav, CallMetadata()).call_id
    assert call_id is not None
    return call_id, wav.read_bytes()


def test_a_node_with_an_empty_home_reads_the_keys_from_the_database(
    web: Platform, tmp_path: Path, master: str
) -> None:
    call_id, original = _ingest(web, tmp_path)
    assert not web.settings.keyring.exists()  # no keyring file anywhere
    worker = _node(web.settings, tmp_path / "worker-home", master)
    assert not (tmp_path / "worker-home").exists()
    assert read_range(worker, call_id, 100, 200) == original[100:200]


def test_the_database_holds_no_key_in_the_clear(web: Platform) -> None:
    ring = web.keyring
    with web.uow() as uow:
        sealed = uow.session.scalars(select(SealedKek.sealed)).all()
    assert len(sealed) == 1 and ring.active.key not in sealed[0]


def test_another_master_key_opens_nothing(web: Platform, tmp_path: Path) -> None:
    call_id, _ = _ingest(web, tmp_path)
    stranger = _node(web.settings, tmp_path / "x", _master())
    with pytest.raises(KeyringError, match="QA_MASTER_KEY"):
        read_range(stranger, call_id, 0, 10)


def test_a_tampered_sealed_key_is_refused(web: Platform, master: str, tmp_path: Path) -> None:
    with web.uow() as uow:
        row = uow.session.scalars(select(SealedKek)).one()
        row.sealed = row.sealed[:-1] + bytes([row.sealed[-1] ^ 1])
        uow.commit()
    with pytest.raises(KeyringError, match="does not open"):
        _node(web.settings, tmp_path / "y", master).keyring  # noqa: B018


def test_rotation_on_one_node_reaches_a_node_that_loaded_before(
    web: Platform, tmp_path: Path, master: str
) -> None:
    call_id, original = _ingest(web, tmp_path)
    worker = _node(web.settings, tmp_path / "w", master)
    old = worker.keyring.active_id  # loaded (and cached) before the rotation
    report = keys.rotate(web)
    assert report.rewrapped == 1 and report.new_kek_id != old
    assert read_range(worker, call_id, 0, 50) == original[:50]  # re-read on the unknown KEK
    keys.retire(web, old)
    assert sorted(_node(web.settings, tmp_path / "v", master).keyring.keks) == [report.new_kek_id]


def test_a_file_keyring_is_sealed_into_the_database_once(
    platform: Platform, tmp_path: Path, master: str
) -> None:
    call_id, original = _ingest(platform, tmp_path)
    node = _node(platform.settings, platform.settings.home, master)
    report = seal_file_keyring(node, platform.settings.keyring)
    assert report.active == platform.keyring.active_id
    fresh = _node(platform.settings, tmp_path / "fresh", master)
    assert read_range(fresh, call_id, 10, 20) == original[10:20]
    with pytest.raises(Conflict, match="already holds a keyring"):
        seal_file_keyring(node, platform.settings.keyring)


def test_init_with_a_master_key_file(settings: Settings, tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(_master() + "\n")
    key_file.chmod(0o644)
    s = replace(settings, keyring_url="db://", master_key_file=str(key_file))
    set_settings(s)
    result = CliRunner().invoke(main, ["init", "--json"])
    assert result.exit_code != 0 and "chmod 600" in result.output
    key_file.chmod(0o600)
    result = CliRunner().invoke(main, ["init", "--json"])
    assert result.exit_code == 0, result.output
    assert '"keyring_source": "db://"' in result.output


def test_a_master_key_must_be_32_bytes(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="32 bytes"):
        replace(
            settings, keyring_url="db://", master_key=base64.b64encode(b"k" * 16).decode()
        ).validate()
