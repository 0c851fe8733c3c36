"""An upload (web API, ``qa ingest``) sends its call's first pipeline stage right after the
commit when a broker is configured — on the real RabbitMQ — and never in the embedded default,
where ``qa process`` does the work; a broker that fails at send time loses no upload."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli import main
from qa_platform.domain.calls import CallMetadata, CallStatus
from qa_platform.domain.pipeline import STAGES, JobStatus
from qa_platform.services.auth import create_token
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.pipeline import enqueue_pending
from qa_platform.settings import Settings, set_settings
from storage.models import Call, Job
from tests.factories import add_person, tone_wav
from tests.helpers.rabbitmq import listing, temporary_vhost, vhost_of
from web import create_app
from workers.celery_app import get_app

pytestmark = pytest.mark.postgres

FIRST = STAGES[0]


@pytest.fixture
def amqp(settings: Settings, platform: Platform) -> Iterator[Settings]:
    with temporary_vhost("qa_upload") as url:
        s = replace(settings, broker_url=url)
        s.validate()
        set_settings(s)
        yield s
        get_app(s).pool.force_close_all()


def _queued(s: Settings, queue: str, want: int, timeout_s: float = 15.0) -> int:
    """Messages in ``queue`` of the test's vhost (polled: the broker counts asynchronously)."""
    deadline = time.monotonic() + timeout_s
    count = -1
    while time.monotonic() < deadline:
        rows = {r["name"]: r for r in listing("queues", vhost_of(s.broker_url), "name", "messages")}
        count = int(rows.get(queue, {}).get("messages", 0))
        if count == want:
            return count
        time.sleep(0.3)
    return count


def _first_job(platform: Platform, call_id: int) -> Job | None:
    with platform.uow() as uow:
        return uow.session.scalar(
            select(Job).where(Job.call_id == call_id, Job.stage == FIRST.name)
        )


def _status(platform: Platform, call_id: int) -> str:
    with platform.uow() as uow:
        return uow.session.get(Call, call_id).status


def test_cli_ingest_sends_the_first_stage_after_commit(amqp, platform, tmp_path):
    wav = tone_wav(tmp_path / "one.wav", 4.0, 330.0)
    r = CliRunner().invoke(main, ["ingest", str(wav), "--agent", "A001", "--json"])
    assert r.exit_code == 0, r.output
    assert _queued(amqp, FIRST.queue, 1) == 1
    call_id = int(json.loads(r.stdout)[0]["call_id"])
    job = _first_job(platform, call_id)
    assert job is not None and job.status == JobStatus.QUEUED and job.deadline_at is not None
    assert _status(platform, call_id) == CallStatus.QUEUED
    # the reconciler's enqueue does not send it a second time
    enqueue_pending(Platform(amqp, dispatch=platform.dispatch))
    assert _queued(amqp, FIRST.queue, 1, timeout_s=2.0) == 1


def test_api_upload_sends_the_first_stage_after_commit(amqp, platform, tmp_path):
    add_person(platform, "sup", "supervisor")
    token = create_token(platform, "sup", scopes=("read", "write"))
    app = create_app({"TESTING": True})  # the web node's own composition root
    wav = tone_wav(tmp_path / "two.wav", 4.0, 440.0).read_bytes()
    r = app.test_client().post(
        "/api/v1/calls",
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(wav), "录音.wav"), "agent": "A001"},
    )
    assert r.status_code == 201, r.get_json()
    assert _queued(amqp, FIRST.queue, 1) == 1
    assert _status(platform, r.get_json()["call_id"]) == CallStatus.QUEUED


def test_embedded_default_sends_nothing_and_qa_process_picks_it_up(platform, tmp_path):
    sent: list[tuple[str, int]] = []
    eager = Platform(platform.settings, dispatch=lambda s, cid, v: sent.append((s.name, cid)))
    assert eager.settings.eager
    res = ingest_file(eager, tone_wav(tmp_path / "e.wav", 4.0, 500.0), CallMetadata())
    assert res.status == "created" and sent == []  # no speech work inside the upload
    assert _status(platform, res.call_id) == CallStatus.INGESTED
    assert _first_job(platform, res.call_id) is None
    enqueue_pending(eager)  # what `qa process` does first
    assert sent == [(FIRST.name, res.call_id)]


def test_a_send_that_fails_keeps_the_upload_for_the_reconciler(platform, tmp_path):
    seen: list[str] = []

    def broken(stage, call_id, version):
        with platform.uow() as uow:  # the message would name a committed row
            seen.append(uow.session.get(Call, call_id).status)
        raise ConnectionError("broker down")

    s = replace(platform.settings, broker_url="amqp://guest:guest@127.0.0.1:1//")
    res = ingest_file(
        Platform(s, dispatch=broken), tone_wav(tmp_path / "f.wav", 4.0, 600.0), CallMetadata()
    )
    assert res.status == "created" and res.call_id is not None
    assert seen == [CallStatus.QUEUED]
    job = _first_job(platform, res.call_id)
    assert job is not None and job.deadline_at is not None  # re-sent once its deadline passes


def test_the_web_node_imports_no_worker_module_at_start(tmp_path):
    code = (
        "import sys; from web import create_app; create_app({'TESTING': True}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('workers', 'torch', 'faster_whisper', 'librosa')))"
    )
    env = {
        **os.environ,
        "QA_HOME": str(tmp_path / "h"),
        "QA_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
