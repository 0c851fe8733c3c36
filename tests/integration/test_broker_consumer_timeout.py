"""RabbitMQ's acknowledgement timeout (consumer_timeout) against the task hard time limit, on
the real RabbitMQ of this machine: the server version from the handshake, the check at worker
start (refused in production, a warning elsewhere) and the workers' own consumer argument."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from kombu import Connection

from qa_platform.settings import Settings, SettingsError
from storage.broker import (
    ConsumerTimeoutTooShort,
    check_consumer_timeout,
    consumer_timeout_ms,
    rabbitmq_version,
)
from tests.helpers.rabbitmq import listing, temporary_vhost, vhost_of
from workers.celery_app import task_queues


@pytest.fixture
def amqp(settings: Settings) -> Iterator[Settings]:
    with temporary_vhost("qa_ctimeout") as url:
        yield replace(settings, broker_url=url)


def _server_version() -> tuple[int, ...]:
    out = subprocess.run(
        ["rabbitmqctl", "--quiet", "version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return tuple(int(p) for p in out.split(".")[:3])


def _production(s: Settings, **kw) -> Settings:
    return replace(s, mode="production", secret_key="k" * 32, **kw)


def test_the_version_comes_from_the_servers_handshake(amqp: Settings) -> None:
    assert rabbitmq_version(amqp.broker_url) == _server_version()


def test_a_server_timeout_below_the_hard_limit_is_refused_in_production(amqp: Settings) -> None:
    old = (3, 10, 8)  # before per-consumer timeouts: the server's consumer_timeout decides
    short = _production(amqp, broker_consumer_timeout_s=1800, task_hard_time_limit_s=2100)
    with pytest.raises(ConsumerTimeoutTooShort) as caught:
        check_consumer_timeout(short, version=old)
    assert "consumer_timeout = 2700000" in str(caught.value)
    assert "consumer_timeout" in caught.value.localized(
        "zh"
    ) and "硬时限" in caught.value.localized("zh")
    # the operator raised it in rabbitmq.conf and says so: the worker starts
    assert check_consumer_timeout(replace(short, broker_consumer_timeout_s=3600), old) == old
    assert check_consumer_timeout(replace(short, broker_consumer_timeout_s=0), old) == old
    # RabbitMQ >= 3.12 honours the workers' own x-consumer-timeout: nothing to configure
    assert check_consumer_timeout(short, version=(3, 13, 1)) == (3, 13, 1)


def test_outside_production_it_warns_with_the_real_servers_version(amqp, caplog) -> None:
    s = replace(amqp, broker_consumer_timeout_s=1800, task_hard_time_limit_s=2100)
    with caplog.at_level(logging.WARNING, logger="storage.broker"):
        found = check_consumer_timeout(s)
    assert found == _server_version()
    if found < (3, 12):
        assert any("consumer_timeout" in r.getMessage() for r in caplog.records)
    else:
        assert not caplog.records


def test_redis_and_eager_need_no_check(settings: Settings) -> None:
    assert check_consumer_timeout(settings) is None
    assert check_consumer_timeout(replace(settings, broker_url="redis://127.0.0.1:6379/9")) is None


def test_the_setting_is_range_checked(settings: Settings) -> None:
    for bad in (-1, 59, 2_000_001):
        with pytest.raises(SettingsError, match="QA_BROKER_CONSUMER_TIMEOUT_S"):
            replace(settings, broker_consumer_timeout_s=bad).validate()


def test_workers_consume_with_their_own_acknowledgement_timeout(amqp: Settings) -> None:
    cpu = next(q for q in task_queues(amqp) if q.name == "cpu")
    assert cpu.consumer_arguments == {"x-consumer-timeout": consumer_timeout_ms(amqp)}
    assert consumer_timeout_ms(amqp) > amqp.task_hard_time_limit_s * 1000
    with Connection(amqp.broker_url) as conn:
        channel = conn.channel()
        queue = cpu.bind(channel)
        queue.declare()
        queue.consume(consumer_tag="probe", callback=lambda *a: None)
        deadline = time.monotonic() + 15
        rows: list[dict] = []
        while time.monotonic() < deadline and not rows:
            rows = listing("consumers", vhost_of(amqp.broker_url), "queue_name", "arguments")
            time.sleep(0.3)
        queue.cancel("probe")
    assert rows, "the consumer was not listed"
    args = rows[0]["arguments"]
    flat = str(args)
    assert "x-consumer-timeout" in flat and str(consumer_timeout_ms(amqp)) in flat
