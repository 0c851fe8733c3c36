"""Probes of the message broker (消息代理): is it reachable, and would it keep queued jobs.

The database is the source of truth for jobs, but a broker that forgets its messages on a
restart leaves every queued call waiting for the reconciler. RabbitMQ quorum queues are
durable by construction; Redis keeps messages only with persistence on (``appendonly yes`` or
an RDB ``save`` schedule), so the worker and web entry points check it at start-up
(``durable_broker``). Nothing here runs at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from kombu import Connection

from qa_platform.domain.errors import Invalid
from qa_platform.settings import Settings

log = logging.getLogger(__name__)


class BrokerNotDurable(Invalid):
    """A Redis broker that would lose every queued job on a restart (production refuses)."""


@dataclass(frozen=True, slots=True)
class RedisPersistence:
    """What Redis reports about its persistence (持久化): AOF and the RDB save schedule."""

    appendonly: str  # "yes" | "no" | "" (CONFIG refused)
    save: str  # e.g. "3600 1 300 100", "" when RDB snapshots are off
    checked: bool  # False when the server refused CONFIG GET (managed Redis)

    @property
    def durable(self) -> bool:
        return self.appendonly == "yes" or bool(self.save.strip())

    def to_dict(self) -> dict[str, object]:
        return {
            "appendonly": self.appendonly,
            "save": self.save,
            "checked": self.checked,
            "durable": self.durable,
        }


def redis_persistence(url: str, timeout_s: float = 5.0) -> RedisPersistence:
    """``CONFIG GET appendonly`` and ``save`` of the Redis at ``url``.

    Connection errors propagate (the broker is down: the caller says so); a server that
    refuses CONFIG (renamed or denied by the provider) gives ``checked=False``.
    """
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        try:
            aof = client.config_get("appendonly").get("appendonly", "")
            save = client.config_get("save").get("save", "")
        except redis.ResponseError:
            client.ping()
            return RedisPersistence("", "", checked=False)
        return RedisPersistence(str(aof), str(save), checked=True)
    finally:
        client.close()


def durable_broker(settings: Settings) -> RedisPersistence | None:
    """Check at start-up that a Redis broker persists its messages.

    Production (``QA_MODE=production`` with ``QA_BROKER_REQUIRE_PERSISTENCE`` on, the
    default) refuses a Redis without AOF or RDB snapshots with ``BrokerNotDurable``; other
    modes log a warning. RabbitMQ and the eager mode need no check (``None``).
    """
    if settings.broker_kind != "redis":
        return None
    found = redis_persistence(settings.broker_url)
    if not found.checked:
        log.warning(
            "broker %s refused CONFIG GET: make sure it persists (appendonly yes), "
            "or queued jobs are lost on a restart",
            _safe(settings.broker_url),
        )
    elif not found.durable:
        error = BrokerNotDurable.of("broker.not_durable", url=_safe(settings.broker_url))
        if settings.is_production and settings.broker_require_persistence:
            raise error
        log.warning("%s", error)
    return found


class ConsumerTimeoutTooShort(Invalid):
    """RabbitMQ would close the channel of a task that runs past its ``consumer_timeout``."""


PER_CONSUMER_TIMEOUT_SINCE = (3, 12)  # RabbitMQ honours the x-consumer-timeout argument


def consumer_timeout_ms(settings: Settings) -> int:
    """The acknowledgement timeout the workers ask for on each consumer: the hard time limit
    plus ten minutes (a task is killed before its delivery times out)."""
    return (settings.task_hard_time_limit_s + 600) * 1000


def rabbitmq_version(url: str, timeout_s: float = 5.0) -> tuple[int, ...]:
    """The server's version from the AMQP handshake (``(3, 10, 8)``); ``()`` if it says none."""
    with Connection(url, connect_timeout=timeout_s) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
        raw = conn.connection.server_properties.get("version", "")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def check_consumer_timeout(
    settings: Settings, version: tuple[int, ...] | None = None
) -> tuple[int, ...] | None:
    """Check at worker start that RabbitMQ will not cut a long task's delivery.

    From RabbitMQ 3.12 the workers' own ``x-consumer-timeout`` consumer argument decides
    (``consumer_timeout_ms``); before it, the server's ``consumer_timeout`` does, as
    ``QA_BROKER_CONSUMER_TIMEOUT_S`` declares it. If that is not above the hard time limit,
    production refuses to start (``ConsumerTimeoutTooShort``); other modes log a warning.
    Returns the server version (``None`` for Redis or eager mode).
    """
    if settings.broker_kind != "amqp":
        return None
    found = rabbitmq_version(settings.broker_url) if version is None else version
    if found and found >= PER_CONSUMER_TIMEOUT_SINCE:
        return found
    declared = settings.broker_consumer_timeout_s
    if declared == 0 or declared > settings.task_hard_time_limit_s:
        return found
    error = ConsumerTimeoutTooShort.of(
        "broker.consumer_timeout",
        version=".".join(map(str, found)) or "?",
        timeout=declared,
        limit=settings.task_hard_time_limit_s,
        wanted=consumer_timeout_ms(settings),
    )
    if settings.is_production:
        raise error
    log.warning("%s", error)
    return found


class BrokerUnavailable(ConnectionError):
    """The broker did not answer; the message names it (without its password)."""


def ping_broker(url: str, timeout_s: float = 2.0) -> None:
    """Open and close one connection to the broker; ``BrokerUnavailable`` when it is down."""
    try:
        with Connection(url, connect_timeout=timeout_s) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    except Exception as exc:  # kombu maps every transport's failure to its own classes
        raise BrokerUnavailable(f"broker {_safe(url)} unreachable: {exc}") from exc


def _safe(url: str) -> str:
    """The broker URL without its password (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user + ':***@' if user else '***@'}{host}"
