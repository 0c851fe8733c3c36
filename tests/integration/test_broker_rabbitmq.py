"""The production broker on the real RabbitMQ (a vhost per test) and the Redis persistence
check on a real ``redis-server`` started by the test with the configuration under test."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from kombu import Connection

from qa_platform.cli import main
from qa_platform.domain.pipeline import QUEUES, stage
from qa_platform.settings import Settings, SettingsError, set_settings
from storage.broker import (
    BrokerNotDurable,
    BrokerUnavailable,
    durable_broker,
    ping_broker,
    redis_persistence,
)
from tests.helpers.rabbitmq import listing, temporary_vhost, vhost_of
from workers.celery_app import dead_letter_queue, get_app, task_queues


@pytest.fixture
def amqp_settings(settings: Settings) -> Iterator[Settings]:
    with temporary_vhost("qa_broker") as url:
        s = replace(settings, broker_url=url, job_max_attempts=1, broker_delivery_limit=2)
        s.validate()
        set_settings(s)
        yield s
        get_app(s).pool.force_close_all()


def _send(s: Settings, call_id: int) -> None:
    app = get_app(s)
    features = stage("features")
    app.tasks[features.task].apply_async(args=(call_id, "1"), queue=features.queue)


def test_stage_queues_are_durable_quorum_queues_with_delivery_limit_and_dead_letters(
    amqp_settings: Settings,
) -> None:
    _send(amqp_settings, 1)
    rows = {
        q["name"]: q
        for q in listing("queues", vhost_of(amqp_settings.broker_url), "name", "durable", "type")
    }
    assert rows["cpu"]["durable"] is True and rows["cpu"]["type"] == "quorum"
    queues = {q.name: q for q in task_queues(amqp_settings)}
    assert set(queues) == set(QUEUES)
    for queue in queues.values():
        assert queue.durable and queue.exchange.type == "topic"
        assert queue.queue_arguments == {
            "x-queue-type": "quorum",
            "x-delivery-limit": 2,
            "x-dead-letter-exchange": "qa.dead",
        }


def test_publishes_wait_for_the_broker_confirm(amqp_settings: Settings) -> None:
    _send(amqp_settings, 1)
    channels = listing("channels", vhost_of(amqp_settings.broker_url), "vhost", "confirm")
    assert channels and all(c["confirm"] is True for c in channels)
    assert get_app(amqp_settings).conf.broker_transport_options == {"confirm_publish": True}


def test_a_message_delivered_past_the_limit_goes_to_the_dead_letter_queue(
    amqp_settings: Settings,
) -> None:
    with Connection(amqp_settings.broker_url) as conn:
        dead_letter_queue().bind(conn.default_channel).declare()
    _send(amqp_settings, 42)
    cpu = next(q for q in task_queues(amqp_settings) if q.name == "cpu")
    deliveries = 0
    with Connection(amqp_settings.broker_url) as conn:
        queue = cpu.bind(conn.default_channel)
        # a consumer that crashes on the message every time: it comes back, until the limit
        while (message := queue.get(no_ack=False)) is not None:
            deliveries += 1
            message.reject(requeue=True)
            assert deliveries <= 10, "the delivery limit did not stop the redeliveries"
        dead = dead_letter_queue().bind(conn.default_channel).get(no_ack=True)
    assert deliveries == amqp_settings.broker_delivery_limit + 1
    assert dead is not None
    assert dead.headers["argsrepr"] == "(42, '1')"
    assert dead.headers["x-death"][0]["queue"] == "cpu"


def test_the_delivery_limit_must_exceed_the_job_attempts(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="QA_BROKER_DELIVERY_LIMIT"):
        replace(settings, job_max_attempts=5, broker_delivery_limit=5).validate()


def test_ping_names_a_broker_that_is_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BrokerUnavailable, match=rf"guest:\*\*\*@127.0.0.1:{port}.*refused"):
        ping_broker(f"amqp://guest:guest@127.0.0.1:{port}//", timeout_s=1)


# --------------------------------------------------------------------------- Redis persistence
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


StartRedis = Callable[..., str]


@pytest.fixture
def start_redis(tmp_path: Path) -> Iterator[StartRedis]:
    """Start a real redis-server with the given persistence; stopped at teardown."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed (the project's CI starts Redis)"
    started: list[subprocess.Popen[bytes]] = []

    def start(*config: str) -> str:
        port = _free_port()
        directory = tmp_path / f"redis-{port}"
        directory.mkdir()
        cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
        started.append(subprocess.Popen([*cmd, *config], stdout=subprocess.DEVNULL))
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(url).ping()
                return url
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_redis_without_persistence_is_refused_in_production(
    settings: Settings, start_redis: StartRedis
) -> None:
    url = start_redis("--appendonly", "no", "--save", "")
    assert redis_persistence(url).durable is False
    production = replace(settings, mode="production", secret_key="k" * 32, broker_url=url)
    with pytest.raises(BrokerNotDurable) as refused:
        durable_broker(production)
    assert "appendonly" in refused.value.localized("zh")
    assert "未开启持久化" in refused.value.localized("zh")
    assert "127.0.0.1" in str(refused.value)


def test_a_redis_without_persistence_only_warns_outside_production(
    settings: Settings, start_redis: StartRedis, caplog: pytest.LogCaptureFixture
) -> None:
    url = start_redis("--appendonly", "no", "--save", "")
    with caplog.at_level(logging.WARNING, logger="storage.broker"):
        found = durable_broker(replace(settings, broker_url=url))
    assert found is not None and not found.durable
    assert "no persistence" in caplog.text


def test_a_redis_with_aof_passes_in_production(settings: Settings, start_redis: StartRedis) -> None:
    url = start_redis("--appendonly", "yes", "--save", "")
    production = replace(settings, mode="production", secret_key="k" * 32, broker_url=url)
    found = durable_broker(production)
    assert found is not None and found.durable and found.appendonly == "yes"


def test_qa_worker_refuses_a_volatile_redis_in_production(
    settings: Settings, start_redis: StartRedis
) -> None:
    url = start_redis("--appendonly", "no", "--save", "")
    set_settings(replace(settings, mode="production", secret_key="k" * 32, broker_url=url))
    result = CliRunner().invoke(main, ["worker", "--queues", "cpu"])
    assert result.exit_code == 2, result.output
    assert "未开启持久化" in result.output
