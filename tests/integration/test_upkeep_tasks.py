"""Periodic upkeep on Celery beat: scheduled, routed, and doing its job when run.

The reconciler's messages go to a real Redis broker (db 12 by default, flushed first): a re-sent
stage is a message on the stage's queue, read back from Redis, not a mock that was called.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from qa_platform.domain.pipeline import PIPELINE_VERSION
from qa_platform.services import pipeline as ps
from qa_platform.services.context import Platform
from qa_platform.settings import Settings, set_settings
from scoring import services as svc
from scoring.plan import PlanFilters, SamplingPlan
from storage.models import Job
from tests.factories import FULL, T0, make_calls, make_people, publish_scored, sample_and_assign
from tests.helpers.pipeline import demo_stereo_wav, ingest
from tests.helpers.platforms import make_platform, without_dispatch
from workers import jobs
from workers.celery_app import make_celery
from workers.upkeep_tasks import CLOSE_WINDOWS, RECONCILE

V = PIPELINE_VERSION
BROKER = os.environ.get("QA_TEST_UPKEEP_REDIS_URL", "redis://127.0.0.1:6379/12")


def test_beat_schedules_the_reconciler_and_window_closing_on_the_cpu_queue() -> None:
    app = make_celery(Settings(broker_url="redis://127.0.0.1:6379/9"))
    tasks = {e["task"]: e for e in app.conf.beat_schedule.values()}
    assert tasks[RECONCILE]["schedule"] <= 60  # lost messages are found within a minute
    assert {RECONCILE, CLOSE_WINDOWS} <= set(app.tasks)
    assert app.conf.task_routes[RECONCILE] == {"queue": "cpu"}
    assert app.conf.task_routes[CLOSE_WINDOWS] == {"queue": "cpu"}


def test_close_windows_task_finalises_a_published_evaluation_past_its_window(platform) -> None:
    people = make_people(platform)
    make_calls(platform, people, 10)
    run = svc.run_sampling(platform.uow(), SamplingPlan("p", size=1, filters=PlanFilters()), seed=1)
    svc.assign_run(platform.uow(), run["run_id"], actor="sup1")
    (ev,) = svc.list_evaluations(platform.uow())
    eid, ins = ev["evaluation_id"], ev["inspector_id"]
    svc.start_evaluation(platform.uow(), eid, ins, at=T0)
    svc.save_scores(platform.uow(), eid, ins, FULL, at=T0)
    svc.submit_evaluation(platform.uow(), eid, ins, at=T0)
    svc.approve_evaluation(platform.uow(), eid, "sup1", at=T0)
    svc.publish_evaluation(platform.uow(), eid, "sup1", at=T0)  # window long past by now
    app = make_celery(platform.settings)  # embedded default: eager, same task code
    result = app.tasks[CLOSE_WINDOWS].apply().get()
    assert result["closed"] == [eid]
    assert svc.show_evaluation(platform.uow(), eid)["state"] == "final"
    assert app.tasks[CLOSE_WINDOWS].apply().get() == {"closed": [], "skipped": []}  # idempotent


def test_close_windows_task_leaves_an_evaluation_inside_its_window_open(platform) -> None:
    people = make_people(platform)
    make_calls(platform, people, 10)
    plan = SamplingPlan("p", size=2, filters=PlanFilters())
    old, fresh = sample_and_assign(platform, plan, seed=1)
    publish_scored(platform, old["evaluation_id"], old["inspector_id"], "sup1", at=T0)
    publish_scored(platform, fresh["evaluation_id"], fresh["inspector_id"], "sup1")  # just now
    app = make_celery(platform.settings)
    assert app.tasks[CLOSE_WINDOWS].apply().get()["closed"] == [old["evaluation_id"]]
    open_one = svc.show_evaluation(platform.uow(), fresh["evaluation_id"])
    assert open_one["state"] == "published"
    assert datetime.fromisoformat(open_one["appeal_deadline"]) > datetime.now(UTC)
    assert svc.show_evaluation(platform.uow(), old["evaluation_id"])["state"] == "final"


def test_reconcile_task_runs_and_reports_nothing_stuck_on_an_idle_platform(platform) -> None:
    app = make_celery(platform.settings)
    assert app.tasks[RECONCILE].apply().get() == {"resent": [], "dead_letters": []}


# --------------------------------------------------------------------------- real broker
@pytest.fixture
def broker(platform: Platform) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def broker_platform(platform: Platform, broker: redis.Redis) -> Iterator[Platform]:
    """The test platform with a real broker: the task sends its messages to Redis."""
    s = replace(platform.settings, broker_url=BROKER)
    set_settings(s)
    yield make_platform(s)
    set_settings(platform.settings)


def _sent(broker: redis.Redis, queue: str) -> list[tuple[str, list[object]]]:
    """The (task name, args) of every message waiting on ``queue`` in the broker."""
    out = []
    for raw in broker.lrange(queue, 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        out.append((message["headers"]["task"], args))
    return out


def _job(platform: Platform, key: jobs.JobKey) -> Job:
    with platform.uow() as uow:
        return uow.session.scalars(select(Job).where(key.where())).one()


def _stick(platform: Platform, key: jobs.JobKey, how: str) -> None:
    """Leave ``key`` stuck two hours ago: its message lost (``queued``) or its worker dead
    after claiming it (``running``)."""
    long_ago = jobs.utcnow() - timedelta(hours=2)
    with platform.uow() as uow:
        ps.ensure_jobs(uow.session, key.call_id, key.pipeline_version, long_ago)
        lost_by = long_ago + timedelta(minutes=5)
        assert ps.mark_dispatched(uow.session, key.call_id, key.stage, V, lost_by, long_ago)
        if how == "running":
            worker = jobs.worker_token("lost-message", "dead-host:1")
            deadline = long_ago + timedelta(minutes=10)
            assert jobs.claim(uow.session, key, worker, deadline, max_attempts=3, now=long_ago).won
        uow.commit()


@pytest.mark.parametrize("how", ["queued", "running"])
def test_reconcile_task_resends_a_job_stuck_past_its_deadline_exactly_once(
    broker_platform: Platform, broker: redis.Redis, tmp_path: Path, how: str
) -> None:
    call_id = ingest(without_dispatch(broker_platform), demo_stereo_wav(tmp_path, seconds=3))
    key = jobs.JobKey(call_id, "features", V)
    _stick(broker_platform, key, how)
    before = _job(broker_platform, key)
    app = make_celery(broker_platform.settings)
    started = datetime.now(UTC)

    result = app.tasks[RECONCILE].apply().get()

    assert result["resent"] == [{"call_id": call_id, "stage": "features", "was": how}]
    assert _sent(broker, "cpu") == [("qa.pipeline.features", [call_id, V])]
    assert _sent(broker, "gpu") == []
    after = _job(broker_platform, key)
    assert after.status == "queued"  # the next delivery claims it and counts its attempt
    assert after.attempts == before.attempts
    assert before.deadline_at < started < after.deadline_at  # a fresh deadline for the message
    again = app.tasks[RECONCILE].apply().get()  # the re-sent message is not overdue yet
    assert again["resent"] == []
    assert len(_sent(broker, "cpu")) == 1


def test_reconcile_task_reports_dead_letters_with_their_reason_and_does_not_resend_them(
    broker_platform: Platform,
    broker: redis.Redis,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    call_id = ingest(without_dispatch(broker_platform), demo_stereo_wav(tmp_path, seconds=3))
    key = jobs.JobKey(call_id, "transcribe", V)
    with broker_platform.uow() as uow:
        ps.ensure_jobs(uow.session, call_id, V, jobs.utcnow())
        deadline = jobs.utcnow() + timedelta(minutes=1)
        for _ in range(4):  # a message redelivered after three deaths: the fourth gives up
            jobs.claim(
                uow.session, key, "msg-a@host:1", deadline, max_attempts=3, delivery_id="msg-a"
            )
        uow.commit()
    app = make_celery(broker_platform.settings)

    with caplog.at_level(logging.ERROR):
        result = app.tasks[RECONCILE].apply().get()

    (letter,) = result["dead_letters"]
    assert (letter["call_id"], letter["stage"], letter["attempts"]) == (call_id, "transcribe", 3)
    assert "gave up after 3 attempts" in letter["error"]
    assert result["resent"] == []
    assert _sent(broker, "cpu") == _sent(broker, "gpu") == []
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(str(call_id) in m and "gave up after 3 attempts" in m for m in logged), logged
