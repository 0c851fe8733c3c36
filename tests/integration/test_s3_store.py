"""The S3 blob store on a real S3 server (SeaweedFS, started once per session).

Write/read/ranges, multipart, immutability, delete, listing, the orphan check of
``qa storage check``, retries through real connection resets, and refused credentials.
"""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli import main
from qa_platform.domain.calls import CallMetadata
from qa_platform.services import recordings
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.retention import purge
from qa_platform.services.storage_check import check_storage
from qa_platform.services.stores import store_at
from qa_platform.settings import Settings
from storage import crypto
from storage.blobs import BlobExists, BlobNotFound, new_blob_id
from storage.models import Call, Recording
from storage.s3 import BlobStoreDenied, S3BlobStore
from storage.s3_io import RangedReader
from storage.s3_retry import BlobStoreUnavailable, RetryPolicy
from tests.helpers.files import make_audio
from tests.helpers.seaweedfs import S3Server
from tests.helpers.tcp_proxy import faulty_proxy

MIB = 1024 * 1024


@pytest.fixture
def store(s3_platform: Platform) -> S3BlobStore:
    assert isinstance(s3_platform.store, S3BlobStore)
    return s3_platform.store


def _pieces(data: bytes, size: int = 100_000) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_blob_reads_back_whole_and_by_range(store: S3BlobStore) -> None:
    blob_id, data = new_blob_id(), os.urandom(300_000)
    assert store.write(blob_id, _pieces(data)) == len(data)
    assert store.exists(blob_id) and store.size(blob_id) == len(data)
    with store.open(blob_id) as fh:
        assert fh.read() == data
        fh.seek(123_456)
        assert fh.read(1000) == data[123_456:124_456]
        assert fh.seek(0, io.SEEK_END) == len(data)
        assert fh.read(10) == b""


def test_a_large_blob_goes_up_in_parts_and_reads_back(store: S3BlobStore) -> None:
    blob_id, data = new_blob_id(), os.urandom(11 * MIB + 17)
    assert store.write(blob_id, _pieces(data)) == len(data)
    assert store.etag(blob_id).endswith("-3")  # three parts of the 5 MiB test part size
    with store.open(blob_id) as fh:
        fh.seek(5 * MIB - 10)  # across the first part boundary
        assert fh.read(20) == data[5 * MIB - 10 : 5 * MIB + 10]
        fh.seek(0)
        assert fh.read() == data


def test_a_stored_blob_is_never_replaced(store: S3BlobStore) -> None:
    blob_id = new_blob_id()
    store.write(blob_id, [b"first"])
    with pytest.raises(BlobExists, match="immutable"):
        store.write(blob_id, [b"second"])
    with pytest.raises(BlobExists):
        store.write(blob_id, _pieces(os.urandom(6 * MIB)))  # nor by a multipart upload
    with store.open(blob_id) as fh:
        assert fh.read() == b"first"


def test_a_concurrent_writer_loses_the_conditional_put(
    store: S3BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The HEAD check passed (the object was not there), but another writer got in first:
    ``If-None-Match: *`` still refuses the overwrite."""
    blob_id = new_blob_id()
    rival = S3BlobStore(store.config)

    def head_then_rival_writes(b: str) -> bool:
        rival.write(b, [b"rival"])
        return False

    monkeypatch.setattr(store, "exists", head_then_rival_writes)
    with pytest.raises(BlobExists):
        store.write(blob_id, [b"late"])
    with store.open(blob_id) as fh:
        assert fh.read() == b"rival"


def test_delete_and_missing_blobs(store: S3BlobStore) -> None:
    blob_id = new_blob_id()
    store.write(blob_id, [b"x" * 10])
    store.delete(blob_id)
    store.delete(blob_id)  # deleting again is fine
    assert not store.exists(blob_id)
    with pytest.raises(BlobNotFound):
        store.size(blob_id)
    with pytest.raises(BlobNotFound), store.open(blob_id) as fh:
        fh.read(1)


def test_ids_lists_only_this_prefix(store: S3BlobStore, s3_platform: Platform) -> None:
    mine = sorted(new_blob_id() for _ in range(3))
    for blob_id in mine:
        store.write(blob_id, [b"m"])
    other = store_at(s3_platform.settings, replace(s3_platform.settings.blob_location, prefix="x"))
    other.write(new_blob_id(), [b"o"])
    assert sorted(store.ids()) == mine


def test_playback_range_fetches_only_the_chunks_it_decrypts(
    s3_platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wav = make_audio(tmp_path / "long.wav", seconds=30.0)  # ~960 kB, 4 KiB chunks
    call_id = ingest_file(s3_platform, wav, CallMetadata()).call_id
    assert call_id is not None
    readers: list[RangedReader] = []
    opened = s3_platform.store.open

    def open_and_keep(blob_id: str) -> RangedReader:
        readers.append(opened(blob_id))  # type: ignore[arg-type]
        return readers[-1]

    monkeypatch.setattr(s3_platform.store, "open", open_and_keep)
    original = wav.read_bytes()
    assert (
        recordings.read_range(s3_platform, call_id, 500_000, 500_100) == original[500_000:500_100]
    )
    (reader,) = readers
    chunk = s3_platform.settings.chunk_size + crypto.TAG_SIZE
    assert reader.fetched_bytes <= crypto.HEADER_SIZE + 2 * chunk
    assert reader.requests == 2  # the header, then the one chunk that holds the bytes
    # The next request of the same playback: size and header are remembered (blobs never
    # change), so one GET, for the chunk alone.
    heads = []
    head = s3_platform.store._head  # type: ignore[attr-defined]
    monkeypatch.setattr(s3_platform.store, "_head", lambda b: heads.append(b) or head(b))
    assert recordings.read_range(s3_platform, call_id, 9000, 9100) == original[9000:9100]
    assert readers[-1].requests == 1 and heads == []


def test_orphan_check_and_repair_on_s3(s3_platform: Platform, tmp_path: Path) -> None:
    live = ingest_file(s3_platform, make_audio(tmp_path / "a.wav"), CallMetadata()).call_id
    orphan = new_blob_id()
    s3_platform.store.write(
        orphan,
        crypto.encrypt_stream(io.BytesIO(b"RIFF" + os.urandom(5000)), os.urandom(32), orphan, 4096),
    )
    report = check_storage(s3_platform, repair=True, min_age_s=3600)
    assert report.orphans == [orphan] and report.removed == []  # too young to remove
    report = check_storage(s3_platform, repair=True, min_age_s=0)
    assert report.removed == [orphan] and not s3_platform.store.exists(orphan)
    with s3_platform.uow() as uow:
        blob = uow.session.scalar(select(Recording.blob_id).where(Recording.call_id == live))
    assert s3_platform.store.exists(blob)
    s3_platform.store.delete(blob)
    result = CliRunner().invoke(main, ["storage", "check", "--json"])
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["missing"] == [live]


def _through(
    server: S3Server, settings: Settings, endpoint: str, sleeps: list[float]
) -> S3BlobStore:
    store = store_at(replace(settings, s3_endpoint=endpoint), settings.blob_location)
    assert isinstance(store, S3BlobStore)
    store.retry = RetryPolicy(max_attempts=4, sleep=sleeps.append)
    return store


def _target(server: S3Server) -> tuple[str, int]:
    host, port = server.endpoint.removeprefix("http://").split(":")
    return host, int(port)


def test_connection_resets_are_retried_with_backoff(
    s3_platform: Platform, s3_server: S3Server
) -> None:
    blob_id, data = new_blob_id(), os.urandom(50_000)
    sleeps: list[float] = []
    with faulty_proxy(_target(s3_server), reset_first=2) as proxy:
        store = _through(s3_server, s3_platform.settings, proxy.endpoint, sleeps)
        store.write(blob_id, [data])
        with store.open(blob_id) as fh:
            assert fh.read() == data
    assert proxy.resets == 2 and len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.1 and 0 <= sleeps[1] <= 0.2  # full jitter under the cap


def test_an_unreachable_store_fails_clearly_after_the_attempts(
    s3_platform: Platform, s3_server: S3Server
) -> None:
    sleeps: list[float] = []
    with faulty_proxy(_target(s3_server)) as proxy:
        proxy.down = True
        store = _through(s3_server, s3_platform.settings, proxy.endpoint, sleeps)
        with pytest.raises(BlobStoreUnavailable, match="failed 4 times"):
            store.exists(new_blob_id())
    assert len(sleeps) == 3


def test_a_wrong_secret_is_refused_naming_the_settings(
    s3_platform: Platform, s3_server: S3Server
) -> None:
    bad = replace(s3_platform.settings, s3_secret_key="not-the-secret")
    store = store_at(bad, bad.blob_location)
    with pytest.raises(BlobStoreDenied, match="QA_S3_SECRET_KEY"):
        store.write(new_blob_id(), [b"x"])


def test_init_creates_the_bucket(settings: Settings, s3_server: S3Server) -> None:
    s = s3_server.settings(settings, bucket=f"qa-init-{os.urandom(3).hex()}")
    store = store_at(s, s.blob_location)
    with pytest.raises(BlobStoreDenied, match="does not exist"):
        store.write(new_blob_id(), [b"x"])
    store.prepare()
    store.write(new_blob_id(), [b"x"])
    assert len(list(store.ids())) == 1


def test_a_purged_blob_whose_delete_failed_is_removed_by_repair(
    s3_platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    call_id = ingest_file(s3_platform, make_audio(tmp_path / "a.wav"), CallMetadata()).call_id
    with s3_platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        assert call is not None
        call.retain_until = s3_platform.clock.now() - timedelta(days=1)
        blob = uow.session.scalar(select(Recording.blob_id).where(Recording.call_id == call_id))
        uow.commit()

    def store_down(blob_id: str) -> None:
        raise BlobStoreUnavailable("object store: DELETE failed 5 times")

    monkeypatch.setattr(s3_platform.store, "delete", store_down)
    with pytest.raises(BlobStoreUnavailable):
        purge(s3_platform)  # the key is shredded (committed), the delete failed
    monkeypatch.undo()
    assert s3_platform.store.exists(blob)
    report = check_storage(s3_platform, repair=True)
    assert report.shredded == [blob] and report.removed == [blob] and report.orphans == []
    assert not s3_platform.store.exists(blob)


def test_an_upload_a_killed_process_left_is_aborted_by_repair(store: S3BlobStore) -> None:
    key = store.key(new_blob_id())
    upload = store.client.create_multipart_upload(Bucket=store.config.bucket, Key=key)["UploadId"]
    store.client.upload_part(
        Bucket=store.config.bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"x" * 1000
    )
    assert store.abandoned_writes(older_than=time.time() + 60) == [f"{key}?{upload}"]
    assert store.abandoned_writes(older_than=time.time() - 3600) == []  # too young
    store.discard_write(f"{key}?{upload}")
    assert store.abandoned_writes(older_than=time.time() + 60) == []
