"""Broker fault with a REAL ``qa worker`` process on the real RabbitMQ (a vhost of its own).

Three calls are queued; while the worker is transcribing one of them (the others queued
behind it) RabbitMQ closes every connection of the vhost: the worker's consumer, its
publisher and the test's. Once more when the next call's transcription runs. Every call must
still end ``analysed`` exactly once: one transcript, one feature row, no duplicate flags,
every job done within its attempts, and nothing left in the queues or dead-lettered.

Run: ``QA_TEST_DATABASE=postgres .venv/bin/pytest tests/integration/test_broker_fault.py -s``
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from qa_platform.domain.pipeline import STAGE_NAMES
from qa_platform.queries.calls import show_call
from qa_platform.services import pipeline as ps
from qa_platform.services.context import Platform
from qa_platform.settings import Settings, set_settings
from storage.models import CallFlag, Job
from storage.models_pipeline import CallFeatures, Transcript, TranscriptSegment
from tests.helpers.pipeline import demo_stereo_wav, ingest
from tests.helpers.platforms import make_platform
from tests.helpers.rabbitmq import close_connections, listing, temporary_vhost, vhost_of
from workers.celery_app import get_app

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PATIENCE_S = 600  # bounds a hung run on a loaded machine; the test polls, never waits it out
QA_WORKER = [sys.executable, "-c", "from qa_platform.cli.pipeline import worker; worker()"]


@pytest.fixture
def amqp_settings(platform: Platform) -> Iterator[Settings]:
    with temporary_vhost("qa_fault") as url:
        s = replace(
            platform.settings,
            broker_url=url,
            asr_language="en",
            job_max_attempts=3,
            task_soft_time_limit_s=60,
            task_hard_time_limit_s=90,
            broker_visibility_timeout_s=120,
        )
        s.validate()
        set_settings(s)
        yield s
        get_app(s).pool.force_close_all()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(s: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "QA_MODE": "test",
            "QA_HOME": str(s.home),
            "QA_DATABASE_URL": s.database,
            "QA_BROKER_URL": s.broker_url,
            "QA_ASR_MODEL_CACHE": str(s.model_cache),
            "QA_ASR_LANGUAGE": s.asr_language,
            "QA_CHUNK_SIZE": str(s.chunk_size),
            "QA_JOB_MAX_ATTEMPTS": str(s.job_max_attempts),
            "QA_TASK_SOFT_TIME_LIMIT_S": str(s.task_soft_time_limit_s),
            "QA_TASK_HARD_TIME_LIMIT_S": str(s.task_hard_time_limit_s),
            "QA_BROKER_VISIBILITY_TIMEOUT_S": str(s.broker_visibility_timeout_s),
            "QA_ASR_CPU_THREADS": "2",
            "QA_LOG_FORMAT": "json",
        }
    )
    return env


METRICS_PORT = _free_port()


@pytest.fixture
def worker(amqp_settings: Settings, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = open(tmp_path / "worker.log", "wb")
    args = ["--queues", "cpu,gpu", "--concurrency", "1", "--loglevel", "info"]
    args += ["--metrics-port", str(METRICS_PORT)]
    proc = subprocess.Popen(
        [*QA_WORKER, *args, "--hostname", "rabbit@%h"],
        cwd=REPO,
        env=_env(amqp_settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield proc
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    print("--- worker.log (tail)\n" + (tmp_path / "worker.log").read_text(errors="replace")[-4000:])


def _jobs(platform: Platform, stage: str) -> dict[int, Job]:
    with platform.uow() as uow:
        rows = uow.session.scalars(select(Job).where(Job.stage == stage)).all()
        return {j.call_id: j for j in rows}


def _wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {PATIENCE_S} s waiting for {what}")


def _count(platform: Platform, column: InstrumentedAttribute[int], call_id: int) -> int:
    """Rows whose ``column`` (a ``call_id`` column) is ``call_id``."""
    with platform.uow() as uow:
        return int(uow.session.scalar(select(func.count()).where(column == call_id)) or 0)


def _duplicate_flags(platform: Platform) -> int:
    key = (CallFlag.call_id, CallFlag.type, CallFlag.role, CallFlag.start, CallFlag.end)
    with platform.uow() as uow:
        groups = uow.session.execute(
            select(*key, func.count()).group_by(*key).having(func.count() > 1)
        ).all()
    return len(groups)


def test_broker_connections_cut_while_jobs_run_and_wait_every_call_analysed_once(
    amqp_settings: Settings, worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    platform = make_platform(amqp_settings)
    calls = [ingest(platform, demo_stereo_wav(tmp_path, seconds=s)) for s in (12, 14, 16)]
    assert sorted(ps.enqueue_pending(platform)) == sorted(calls)
    vhost = vhost_of(amqp_settings.broker_url)

    running: dict[str, int] = {}

    def transcribing(exclude: set[int]) -> bool:
        for call_id, job in _jobs(platform, "transcribe").items():
            if call_id not in exclude and job.status in ("running", "done"):
                running["call"] = call_id
                return True
        return False

    _wait_for(lambda: transcribing(set()), "the worker to transcribe a first call")
    first = running["call"]
    close_connections(vhost)  # the others still queued behind it
    _wait_for(lambda: transcribing({first}), "the worker to transcribe a second call")
    close_connections(vhost)

    def settled() -> bool:
        return all(show_call(platform, c)["status"] in ("analysed", "failed") for c in calls)

    _wait_for(settled, "every call to settle")
    for call_id in calls:
        shown = show_call(platform, call_id)
        assert shown["status"] == "analysed", shown["error"]
        assert _count(platform, Transcript.call_id, call_id) == 1
        assert _count(platform, CallFeatures.call_id, call_id) == 1
        assert _count(platform, TranscriptSegment.call_id, call_id) == len(shown["segments"]) > 0
        jobs = {j["stage"]: (j["status"], j["attempts"]) for j in shown["jobs"]}
        assert set(jobs) == set(STAGE_NAMES)  # features, transcribe, flags, autoqa, finish
        for stage_name, (status, attempts) in jobs.items():
            assert status == "done", (call_id, stage_name, status)
            # one claim, or two when the cut came between the claim and its ack
            assert 1 <= attempts <= 2, (call_id, stage_name, attempts)
    assert _duplicate_flags(platform) == 0
    assert ps.progress(platform).dead_letters == []

    def queues_drained() -> bool:
        rows = listing("queues", vhost, "name", "messages")
        return all(q["messages"] == 0 for q in rows if q["name"] in ("cpu", "gpu", "qa.dead"))

    _wait_for(queues_drained, "the stage queues to be empty (every message acknowledged)")
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert log.count("Connection to broker lost") >= 2  # the worker felt both cuts
    _assert_task_lines_carry_ids(log, calls)
    _assert_worker_metrics(calls)


def _assert_task_lines_carry_ids(log: str, calls: list[int]) -> None:
    """QA_LOG_FORMAT=json: the task lines name the call, the job and the Celery task."""
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    tasks = [r for r in records if r["logger"] == "celery.app.trace"]
    assert tasks and all(r["call_id"] in calls and r["task_id"] for r in tasks)
    assert all(r["job_id"].startswith(f"{r['call_id']}/") for r in tasks)
    assert all({"call_id", "job_id", "task_id", "user_id"} <= set(r) for r in records)


def _assert_worker_metrics(calls: list[int]) -> None:
    """The worker exporter saw every stage complete once per call, and the ASR speed."""
    with urllib.request.urlopen(f"http://127.0.0.1:{METRICS_PORT}/metrics", timeout=10) as r:
        text = r.read().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    for stage_name in STAGE_NAMES:
        done = ("qa_job_duration_seconds_count", (("outcome", "completed"), ("stage", stage_name)))
        assert samples[done] == len(calls), stage_name
        assert samples[("qa_job_attempts_count", (("stage", stage_name),))] == len(calls)
    rtf = {k: v for k, v in samples.items() if k[0] == "qa_asr_real_time_factor_count"}
    assert list(rtf.values()) == [len(calls)]
    node = dict(next(iter(rtf))[1])["node"]
    audio = samples[("qa_asr_audio_seconds_total", (("node", node),))]
    assert audio == pytest.approx(12 + 14 + 16, abs=0.1)
