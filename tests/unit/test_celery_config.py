"""The Celery settings that the fault findings in RELIABILITY.md call for, checked by what the
app does with them: what validation accepts, where a message lands, what a consumer refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery import Celery
from hypothesis import given, settings
from hypothesis import strategies as st
from kombu.exceptions import ContentDisallowed
from kombu.message import Message

from qa_platform.domain.pipeline import QUEUES, STAGES
from qa_platform.settings import Settings, SettingsError
from workers.celery_app import app_dispatcher, celery_config, make_celery

PRODUCTION_LIKE = Settings(broker_url="redis://127.0.0.1:6379/9")
SECONDS = st.integers(min_value=1, max_value=20_000)


@settings(max_examples=200, deadline=None)
@given(soft=SECONDS, hard=SECONDS, visibility=SECONDS)
def test_visibility_timeout_exceeds_hard_limit_exceeds_soft_limit(
    soft: int, hard: int, visibility: int
) -> None:
    # Whatever limits an operator sets, an app built from settings that validation accepts
    # never lets the broker hand a healthy running task to a second worker.
    limits = {
        "task_soft_time_limit_s": soft,
        "task_hard_time_limit_s": hard,
        "broker_visibility_timeout_s": visibility,
    }
    try:
        s = Settings.from_env({"QA_BROKER_URL": "redis://127.0.0.1:6379/9"}, **limits)
    except SettingsError:
        assert not visibility > hard > soft  # only a broken ordering is refused
        return
    conf = celery_config(s)
    visibility_timeout = conf["broker_transport_options"]["visibility_timeout"]
    assert visibility_timeout > conf["task_time_limit"] > conf["task_soft_time_limit"]


def test_settings_refuse_a_visibility_timeout_shorter_than_the_hard_limit() -> None:
    with pytest.raises(SettingsError, match="VISIBILITY_TIMEOUT"):
        Settings.from_env(
            {}, task_soft_time_limit_s=10, task_hard_time_limit_s=20, broker_visibility_timeout_s=15
        )


@pytest.fixture
def memory_app() -> Iterator[Celery]:
    """The production-like app on kombu's in-process broker: messages can be read back."""
    app = make_celery(PRODUCTION_LIKE)
    app.conf.broker_url = "memory://"
    yield app
    with app.connection_for_write() as conn:
        for queue in QUEUES:
            conn.SimpleQueue(queue).clear()


def _drain(app: Celery, queue: str, accept: list[str] | None = None) -> list[Message]:
    with app.connection_for_read() as conn:
        q = conn.SimpleQueue(queue, accept=accept)
        out = []
        while q.qsize():
            message = q.get(timeout=1)
            out.append(message)
            message.ack()
        return out


def test_app_acks_late_rejects_on_worker_lost_prefetches_one_and_speaks_json_only(
    memory_app: Celery,
) -> None:
    # Every task the app registers survives its worker's death (acked late, requeued) ...
    ours = [t for name, t in memory_app.tasks.items() if name.startswith("qa.")]
    assert len(ours) >= len(STAGES) + 2
    assert all(t.acks_late and t.reject_on_worker_lost for t in ours)
    assert memory_app.conf.worker_prefetch_multiplier == 1
    assert (
        memory_app.conf.worker_max_tasks_per_child
        and memory_app.conf.worker_max_tasks_per_child > 0
    )
    # ... what it sends is JSON ...
    memory_app.send_task("qa.pipeline.features", args=(7, "1"))
    (sent,) = _drain(memory_app, "cpu")
    assert sent.content_type == "application/json"
    # ... and a pickled message (code execution from the broker) is refused, not decoded.
    with memory_app.connection_for_write() as conn:
        conn.Producer().publish(
            {"evil": True}, routing_key="cpu", exchange="cpu", serializer="pickle"
        )
    with pytest.raises(ContentDisallowed):
        _drain(memory_app, "cpu", accept=list(memory_app.conf.accept_content))


def test_each_stage_is_routed_to_its_queue_under_a_stable_name(memory_app: Celery) -> None:
    # Only ASR needs a GPU; everything else (decoding, rules, reports, upkeep) runs on cpu
    # workers. Every route names a declared queue, so `--queues cpu,gpu` consumes all work.
    declared = {q.name for q in memory_app.conf.task_queues}
    assert declared == set(QUEUES)
    for name in [n for n in memory_app.tasks if n.startswith("qa.")]:
        memory_app.send_task(name, args=(1, "1"))  # no queue given: the router decides
    on_gpu = [m.headers["task"] for m in _drain(memory_app, "gpu")]
    on_cpu = {m.headers["task"] for m in _drain(memory_app, "cpu")}
    assert on_gpu == ["qa.pipeline.transcribe"]
    assert on_cpu == {n for n in memory_app.tasks if n.startswith("qa.")} - set(on_gpu)
    dispatch = app_dispatcher(memory_app)  # what the services use to send a stage
    for s in STAGES:
        dispatch(s, 3, "1")
        task = memory_app.tasks[s.task]
        assert task.name == s.task
        assert task.acks_late and task.reject_on_worker_lost
        (message,) = _drain(memory_app, "gpu" if s.name == "transcribe" else "cpu")
        assert message.headers["task"] == s.task


def test_embedded_default_runs_eagerly_and_a_broker_url_does_not() -> None:
    assert celery_config(Settings())["task_always_eager"] is True
    assert celery_config(PRODUCTION_LIKE)["task_always_eager"] is False


def test_building_the_app_connects_to_nothing() -> None:
    # An unreachable broker: building the app (and its config) must not try to connect.
    app = make_celery(Settings(broker_url="redis://203.0.113.1:1/0"))
    assert app.conf.broker_url == "redis://203.0.113.1:1/0"
    assert "qa.pipeline.finish" in app.tasks
