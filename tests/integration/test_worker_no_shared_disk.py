"""A worker node that shares no disk with the node that ingested: it reaches only the database,
the broker (real Redis) and S3 (real SeaweedFS), starts with an EMPTY ``QA_HOME``, gets its KEKs
from the sealed keyring in the database, resolves the Whisper model itself (the bundled base,
assembled into its own model cache) and analyses the call in a real Celery worker process.

``QA_TEST_DATABASE=postgres pytest tests/integration/test_worker_no_shared_disk.py -s``
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from qa_platform.queries.calls import show_call
from qa_platform.services import pipeline as ps
from qa_platform.services.bootstrap import initialise
from qa_platform.services.context import Platform
from qa_platform.settings import Settings, set_settings
from storage.s3 import S3BlobStore
from tests.helpers.pipeline import demo_stereo_wav, ingest
from tests.helpers.platforms import make_platform
from tests.helpers.seaweedfs import S3Server

pytestmark = [pytest.mark.slow, pytest.mark.worker]

REPO = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("QA_TEST_NODES_REDIS_URL", "redis://127.0.0.1:6379/13")
PATIENCE_S = 600  # bounds a hung run on a loaded machine; polled, never waited out
QA_WORKER = [sys.executable, "-c", "from qa_platform.cli.pipeline import worker; worker()"]


@pytest.fixture
def ingest_node(settings: Settings, s3_server: S3Server) -> Iterator[Platform]:
    """The web node: PostgreSQL (or the test database), S3 blobs, keyring sealed in the db."""
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    s = replace(
        s3_server.settings(settings),
        broker_url=BROKER,
        keyring_url="db://",
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
        asr_language="en",
    )
    s.validate()
    set_settings(s)
    node = make_platform(s)
    initialise(node)
    yield node
    client.flushdb()
    client.close()


def _worker_env(s: Settings, home: Path, s3_server: S3Server) -> dict[str, str]:
    """Only addresses and secrets: no path of the ingest node (model cache included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(s3_server.env())
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "QA_MODE": "test",
            "QA_HOME": str(home),
            "QA_DATABASE_URL": s.database,
            "QA_BROKER_URL": s.broker_url,
            "QA_BLOB_URL": s.blob_url,
            "QA_KEYRING_URL": "db://",
            "QA_MASTER_KEY": s.master_key,
            "QA_ASR_LANGUAGE": "en",
            "QA_ASR_CPU_THREADS": "2",
            "QA_CHUNK_SIZE": str(s.chunk_size),
        }
    )
    return env


def _wait_for_end(node: Platform, call_id: int, worker: subprocess.Popen[bytes]) -> dict:
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        shown = show_call(node, call_id)
        if shown["status"] in ("analysed", "failed") or worker.poll() is not None:
            return shown
        time.sleep(0.5)
    raise AssertionError(f"the worker did not finish call {call_id} in {PATIENCE_S} s")


def test_a_worker_with_an_empty_home_analyses_a_call_ingested_elsewhere(
    ingest_node: Platform, s3_server: S3Server, tmp_path: Path
) -> None:
    assert isinstance(ingest_node.store, S3BlobStore)
    call_id = ingest(ingest_node, demo_stereo_wav(tmp_path))  # 30 s, both speakers
    assert not any(ingest_node.settings.blobs.glob("*/*/*"))  # the recording is only in S3
    assert not ingest_node.settings.keyring.exists()  # and no node has a keyring file
    home = tmp_path / "worker-node"  # does not exist: the worker starts from nothing
    log = open(tmp_path / "worker.log", "wb")
    worker = subprocess.Popen(
        [*QA_WORKER, "--queues", "cpu,gpu", "--concurrency", "1", "--hostname", "remote@%h"],
        cwd=tmp_path,  # not the repository or the ingest node's home
        env=_worker_env(ingest_node.settings, home, s3_server),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert ps.enqueue_pending(ingest_node) == [call_id]
        shown = _wait_for_end(ingest_node, call_id, worker)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        print((tmp_path / "worker.log").read_text(errors="replace")[-3000:])
    assert shown["status"] == "analysed", shown["error"]
    assert {s["role"] for s in shown["segments"]} == {"agent", "customer"}
    assert any(s["text"].strip() for s in shown["segments"])
    assert all(j["status"] == "done" for j in shown["jobs"])
    assert (home / "models" / "faster-whisper-base" / "model.bin").is_file()  # resolved there
    assert not (home / "keyring.json").exists()
    assert not any((home / "blobs").glob("*/*/*"))
