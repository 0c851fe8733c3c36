from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from storage.keyring import Keyring, KeyringError


def test_keyring_file_is_created_private(tmp_path: Path) -> None:
    ring = Keyring.load_or_create(tmp_path / "k.json")
    assert stat.S_IMODE(os.stat(ring.path).st_mode) == 0o600
    assert Keyring.load(ring.path).active_id == ring.active_id


def test_world_readable_keyring_is_refused(tmp_path: Path) -> None:
    ring = Keyring.load_or_create(tmp_path / "k.json")
    os.chmod(ring.path, 0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        Keyring.load(ring.path)


def test_wrap_binds_the_recording(tmp_path: Path) -> None:
    ring = Keyring.load_or_create(tmp_path / "k.json")
    kid, wrapped = ring.wrap(b"k" * 32, "blob-a")
    assert ring.unwrap(kid, wrapped, "blob-a") == b"k" * 32
    with pytest.raises(KeyringError, match="does not open"):
        ring.unwrap(kid, wrapped, "blob-b")


def test_old_keys_still_unwrap_after_adding_and_retire_needs_inactive(tmp_path: Path) -> None:
    ring = Keyring.load_or_create(tmp_path / "k.json")
    old, wrapped = ring.wrap(b"d" * 32, "x")
    new = ring.add_active()
    ring.save()
    again = Keyring.load(ring.path)
    assert again.active_id == new.id
    assert again.unwrap(old, wrapped, "x") == b"d" * 32
    with pytest.raises(KeyringError, match="active"):
        again.retire(new.id)
    again.retire(old)
    with pytest.raises(KeyringError, match="not in the keyring"):
        again.unwrap(old, wrapped, "x")


def test_malformed_keyring_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    path.write_text("{not json")
    os.chmod(path, 0o600)
    with pytest.raises(KeyringError, match="malformed"):
        Keyring.load(path)
