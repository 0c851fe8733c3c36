"""`qa storage check`: orphan blobs from a crash mid-ingest, and recordings whose blob is gone."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli import main
from qa_platform.domain.calls import CallMetadata
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.storage_check import check_storage
from storage import crypto
from storage.blobs import new_blob_id
from storage.models import Recording
from tests.helpers.files import make_audio


def orphan(platform: Platform, age_s: float) -> str:
    """What a process killed between blob write and row insert leaves behind."""
    blob_id = new_blob_id()
    source = io.BytesIO(b"RIFF" + os.urandom(5000))
    platform.store.write(
        blob_id, crypto.encrypt_stream(source, crypto.new_data_key(), blob_id, 4096)
    )
    path = platform.settings.blobs / blob_id[:2] / blob_id[2:4] / blob_id
    then = time.time() - age_s
    os.utime(path, (then, then))
    return blob_id


def test_old_orphans_are_removed_young_ones_and_live_blobs_kept(
    platform: Platform, tmp_path: Path
) -> None:
    live = ingest_file(platform, make_audio(tmp_path / "a.wav"), CallMetadata()).call_id
    old, young = orphan(platform, 7200), orphan(platform, 10)
    report = check_storage(platform)
    assert report.orphans == sorted([old, young]) and report.removed == [] and report.missing == []
    report = check_storage(platform, repair=True, min_age_s=3600)
    assert report.removed == [old]
    assert not platform.store.exists(old) and platform.store.exists(young)
    with platform.uow() as uow:
        blob = uow.session.scalar(select(Recording.blob_id).where(Recording.call_id == live))
    assert platform.store.exists(blob)


def test_missing_blob_of_a_live_recording_fails_the_check(
    platform: Platform, tmp_path: Path
) -> None:
    call_id = ingest_file(platform, make_audio(tmp_path / "a.wav"), CallMetadata()).call_id
    with platform.uow() as uow:
        blob = uow.session.scalar(select(Recording.blob_id).where(Recording.call_id == call_id))
    platform.store.delete(blob)
    result = CliRunner().invoke(main, ["storage", "check", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["missing"] == [call_id]


def test_a_temp_file_a_killed_write_left_is_discarded_by_repair(platform: Platform) -> None:
    blob_id = new_blob_id()
    partial = platform.settings.blobs / blob_id[:2] / blob_id[2:4] / f".{blob_id}.0a1b.partial"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a blob")
    then = time.time() - 7200
    os.utime(partial, (then, then))
    report = check_storage(platform)
    assert report.abandoned == [str(partial.relative_to(platform.settings.blobs))]
    assert partial.exists()
    check_storage(platform, repair=True)
    assert not partial.exists()
