"""``qa storage migrate``: local → S3 (real SeaweedFS), verified, resumable after a SIGKILL,
read-through switch-over, purges during a migration."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_platform.domain.calls import CallMetadata
from qa_platform.services.blob_migration import BlobCopyMismatch, migrate_blobs
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.recordings import plaintext_tempfile
from qa_platform.services.retention import purge
from qa_platform.services.stores import store_at
from qa_platform.settings import Settings
from storage.blobs import FallbackBlobStore, LocalBlobStore
from storage.models import Call, Recording
from storage.models_scaleout import BlobCopy
from storage.s3 import S3BlobStore
from tests.helpers.files import make_audio
from tests.helpers.platforms import make_platform
from tests.helpers.seaweedfs import S3Server

REPO = Path(__file__).resolve().parents[2]
QA = [sys.executable, "-c", "from qa_platform.cli import main; main()"]


def _ingest(
    platform: Platform, tmp: Path, n: int, seconds: float = 2.0, first_seed: int = 1000
) -> list[int]:
    ids = []
    for seed in range(first_seed, first_seed + n):
        wav = make_audio(tmp / f"c{seed}.wav", seconds=seconds, seed=seed)
        result = ingest_file(platform, wav, CallMetadata())
        assert result.call_id is not None, result.error
        ids.append(result.call_id)
    return ids


def _s3_only(platform: Platform, s3_server: S3Server, prefix: str) -> Platform:
    return make_platform(s3_server.settings(platform.settings, prefix=prefix))


def _target(platform: Platform, s3_server: S3Server, prefix: str) -> S3BlobStore:
    s = s3_server.settings(platform.settings, prefix=prefix)
    store = store_at(s, s.blob_location)
    assert isinstance(store, S3BlobStore)
    return store


def _reads_back(platform: Platform, call_ids: list[int]) -> bool:
    """Every recording decrypts (every chunk authenticated) to the audio that was ingested."""
    with platform.uow() as uow:
        digests = dict(uow.session.execute(select(Recording.call_id, Recording.sha256)).all())
    for call_id in call_ids:
        with plaintext_tempfile(platform, call_id) as path:
            if hashlib.sha256(path.read_bytes()).hexdigest() != digests[call_id]:
                return False
    return True


def _prefix() -> str:
    return f"m-{os.urandom(4).hex()}"


def test_migrate_copies_verifies_and_a_rerun_copies_nothing(
    platform: Platform, s3_server: S3Server, tmp_path: Path
) -> None:
    calls = _ingest(platform, tmp_path, 3)
    prefix = _prefix()
    target = _target(platform, s3_server, prefix)
    first = migrate_blobs(platform, target)
    assert (first.copied, first.already, first.recordings, first.missing) == (3, 0, 3, [])
    again = migrate_blobs(platform, target)
    assert (again.copied, again.already, again.recordings) == (0, 0, 3)
    assert _reads_back(_s3_only(platform, s3_server, prefix), calls)


def test_a_complete_copy_left_unrecorded_is_verified_not_copied_again(
    platform: Platform, s3_server: S3Server, tmp_path: Path
) -> None:
    _ingest(platform, tmp_path, 3)
    target = _target(platform, s3_server, _prefix())
    with platform.uow() as uow:
        blob_id = uow.session.scalars(select(Recording.blob_id).order_by(Recording.id)).first()
    assert blob_id is not None
    with platform.store.open(blob_id) as fh:
        target.write(blob_id, [fh.read()])  # an upload that finished just before a kill
    report = migrate_blobs(platform, target)
    assert (report.copied, report.already, report.recordings) == (2, 1, 3)


def test_a_differing_object_in_the_target_stops_the_migration(
    platform: Platform, s3_server: S3Server, tmp_path: Path
) -> None:
    _ingest(platform, tmp_path, 1)
    target = _target(platform, s3_server, _prefix())
    with platform.uow() as uow:
        blob_id = uow.session.scalar(select(Recording.blob_id))
    assert blob_id is not None
    target.write(blob_id, [b"something else"])
    with pytest.raises(BlobCopyMismatch, match=blob_id):
        migrate_blobs(platform, target)
    with platform.uow() as uow:
        assert uow.session.scalar(select(func.count(BlobCopy.id))) == 0


def test_switch_over_reads_old_blobs_while_new_ones_land_in_the_new_store(
    platform: Platform, s3_server: S3Server, tmp_path: Path
) -> None:
    old_calls = _ingest(platform, tmp_path, 2)
    prefix = _prefix()
    switched = replace(
        s3_server.settings(platform.settings, prefix=prefix),
        blob_fallback_url=f"file://{platform.settings.blobs}",
    )
    both = make_platform(switched)
    assert isinstance(both.store, FallbackBlobStore)
    assert _reads_back(both, old_calls)  # not copied yet: read from the old store
    new_calls = _ingest(both, tmp_path, 1, first_seed=2000)
    local = platform.store
    assert isinstance(local, LocalBlobStore) and len(list(local.ids())) == 2  # new one in S3
    report = migrate_blobs(both, both.store.primary)  # the last pass, from the pair
    assert (report.copied, report.already, report.recordings) == (2, 1, 3)
    assert _reads_back(_s3_only(platform, s3_server, prefix), old_calls + new_calls)


def test_a_recording_purged_after_its_copy_is_deleted_from_the_target(
    platform: Platform, s3_server: S3Server, tmp_path: Path
) -> None:
    calls = _ingest(platform, tmp_path, 2)
    target = _target(platform, s3_server, _prefix())
    migrate_blobs(platform, target)
    with platform.uow() as uow:
        call = uow.session.get(Call, calls[0])
        assert call is not None
        call.retain_until = platform.clock.now() - timedelta(days=1)
        blob_id = uow.session.scalar(select(Recording.blob_id).where(Recording.call_id == calls[0]))
        uow.commit()
    assert [i.call_id for i in purge(platform)] == [calls[0]]  # deletes from the old store only
    assert target.exists(blob_id)
    report = migrate_blobs(platform, target)
    assert report.dropped == [blob_id] and not target.exists(blob_id)
    assert report.recordings == 1


def _env(s: Settings, s3_server: S3Server) -> dict[str, str]:
    return {
        **os.environ,
        **s3_server.env(),
        "PYTHONPATH": str(REPO),
        "QA_MODE": "test",
        "QA_HOME": str(s.home),
        "QA_DATABASE_URL": s.database,
        "QA_CHUNK_SIZE": str(s.chunk_size),
        "QA_S3_PART_SIZE": str(5 * 1024 * 1024),
    }


def _copies(platform: Platform) -> int:
    with platform.uow() as uow:
        return int(uow.session.scalar(select(func.count(BlobCopy.id))) or 0)


def test_a_migration_killed_half_way_loses_nothing_and_resumes(
    platform: Platform, s3_server: S3Server, tmp_path: Path
) -> None:
    calls = _ingest(platform, tmp_path, 24, seconds=45.0)  # ~1.4 MB each
    prefix = _prefix()
    url = f"s3://{s3_server.settings(platform.settings).blob_location.bucket}/{prefix}"
    env = _env(platform.settings, s3_server)
    log = open(tmp_path / "migrate-1.log", "wb")
    first = subprocess.Popen(
        [*QA, "storage", "migrate", "--to", url, "--json"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while _copies(platform) < 3 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    at_kill = _copies(platform)
    print(f"killed after {at_kill} of {len(calls)} verified copies")
    assert first.returncode == -signal.SIGKILL, (tmp_path / "migrate-1.log").read_text()
    assert 0 < at_kill < len(calls)

    done = subprocess.run(
        [*QA, "storage", "migrate", "--to", url, "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    print(f"resumed: {report}")
    assert report["recordings"] == len(calls) and report["missing"] == []
    assert report["copied"] + report["already"] == len(calls) - at_kill
    assert report["already"] <= 1  # at most the upload that finished as the kill came
    s3_only = _s3_only(platform, s3_server, prefix)
    assert isinstance(s3_only.store, S3BlobStore)
    assert sorted(s3_only.store.ids()) == sorted(_blob_ids(platform))
    assert _reads_back(s3_only, calls)


def _blob_ids(platform: Platform) -> list[str]:
    with platform.uow() as uow:
        return list(uow.session.scalars(select(Recording.blob_id)))
