"""The Celery application factory. Importing this module connects to nothing.

``make_celery(settings)`` builds an app with the settings that the fault tests on this
machine showed are needed (see RELIABILITY.md): late acks, reject on worker lost, prefetch 1,
soft and hard time limits, a broker visibility timeout longer than the hard limit, JSON only,
and worker processes recycled after N tasks. Without a broker URL (the embedded default) the
same tasks run eagerly in process. Models load in ``worker_process_init`` (after fork).

``celery -A workers.celery_app worker`` finds the module-level ``app``, which is built on
first attribute access from the environment's settings (module ``__getattr__``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from celery import Celery, bootsteps
from celery.signals import setup_logging, task_postrun, task_prerun, worker_process_init
from kombu import Exchange, Queue

from qa_platform import logs
from qa_platform.domain.pipeline import QUEUES, STAGES, Stage
from qa_platform.logs import configure_logging
from qa_platform.settings import Settings, get_settings
from storage.broker import consumer_timeout_ms

log = logging.getLogger(__name__)

_apps: dict[Settings, Celery] = {}

# RabbitMQ topology (docs/deploy.md "Broker"): one topic exchange routes each stage's queue by
# its name (topic, not direct: Celery's native delayed delivery for retries needs it); a
# message delivered QA_BROKER_DELIVERY_LIMIT times goes to the dead-letter queue.
EXCHANGE = "qa"
DEAD_LETTER_EXCHANGE = "qa.dead"
DEAD_LETTER_QUEUE = "qa.dead"


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery configuration for ``settings`` (plain dict: easy to assert in tests)."""
    return {
        "broker_url": settings.broker_url or "memory://localhost/",
        "result_backend": settings.result_backend or None,
        "task_ignore_result": not settings.result_backend,
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.task_soft_time_limit_s,
        "task_time_limit": settings.task_hard_time_limit_s,
        "broker_transport_options": _transport_options(settings),
        "worker_max_tasks_per_child": settings.worker_max_tasks_per_child,
        "task_always_eager": settings.eager,
        "task_queues": task_queues(settings),
        "task_default_queue": "cpu",
        "task_routes": {s.task: {"queue": s.queue} for s in STAGES},
        "task_create_missing_queues": False,
        "broker_connection_retry_on_startup": True,
        "worker_send_task_events": False,
        # A pool child loads its models in worker_process_init; Celery's default 4 s to report
        # "up" killed children that were still loading on a busy machine (seen in the fault test).
        "worker_proc_alive_timeout": float(settings.worker_proc_alive_timeout_s),
        "enable_utc": True,
        "timezone": settings.centre_timezone,  # beat's 01:00 is the centre's local time
        "beat_schedule_filename": str(settings.home / "celerybeat-schedule"),
        # A lost broker connection lets running tasks finish (their result is saved in the
        # database; the unacked message comes back and its claim finds the job done).
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_detect_quorum_queues": True,  # quorum queues: per-consumer prefetch only
    }


def _transport_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_kind == "amqp":
        # Publisher confirms: apply_async returns only once RabbitMQ has the message.
        return {"confirm_publish": True}
    return {"visibility_timeout": settings.broker_visibility_timeout_s}


def task_queues(settings: Settings) -> tuple[Queue, ...]:
    """The stage queues: plain ones on Redis; durable quorum queues with a delivery limit and
    dead-lettering on RabbitMQ (仲裁队列, replicated and kept across broker restarts)."""
    if settings.broker_kind != "amqp":
        return tuple(Queue(name) for name in QUEUES)
    exchange = Exchange(EXCHANGE, type="topic", durable=True)
    arguments = {
        "x-queue-type": "quorum",
        "x-delivery-limit": settings.broker_delivery_limit,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
    }
    consumer = {"x-consumer-timeout": consumer_timeout_ms(settings)}  # RabbitMQ >= 3.12
    return tuple(
        Queue(
            name,
            exchange,
            routing_key=name,
            durable=True,
            queue_arguments=arguments,
            consumer_arguments=consumer,
        )
        for name in QUEUES
    )


def dead_letter_queue() -> Queue:
    """Where RabbitMQ puts a message past its delivery limit (its x-death header says from
    which queue); a person looks at it, the job row says dead_letter or is re-sent."""
    exchange = Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True)
    return Queue(
        DEAD_LETTER_QUEUE,
        exchange,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


class DeclareDeadLetters(bootsteps.StartStopStep):
    """Worker consumer step: declare the dead-letter exchange and queue on every
    (re)connection, before the stage queues that name it receive messages."""

    requires = ("celery.worker.consumer.connection:Connection",)

    def start(self, c: Any) -> None:
        if c.app.conf.broker_url.startswith("amqp://"):
            dead_letter_queue().bind(c.connection.default_channel).declare()


def make_celery(settings: Settings) -> Celery:
    """A configured Celery app with the pipeline tasks registered. Connects to nothing."""
    from workers import report_tasks, upkeep_tasks
    from workers.tasks import register_tasks

    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")  # pyannote telemetry off
    app = Celery("qa", set_as_current=False)
    app.conf.update(celery_config(settings))
    register_tasks(app)
    app.steps["consumer"].add(DeclareDeadLetters)
    report_tasks.register_report_tasks(app)
    upkeep_tasks.register_upkeep_tasks(app)
    app.conf.task_routes = {
        **app.conf.task_routes,
        **report_tasks.task_routes(),
        **upkeep_tasks.task_routes(),
    }
    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        **report_tasks.beat_schedule(),
        **upkeep_tasks.beat_schedule(),
    }
    worker_process_init.connect(_load_models_after_fork, weak=False, dispatch_uid="qa-warm-up")
    setup_logging.connect(_setup_logging, weak=False, dispatch_uid="qa-logging")
    task_prerun.connect(_bind_task_ids, weak=False, dispatch_uid="qa-log-ids")
    task_postrun.connect(_clear_task_ids, weak=False, dispatch_uid="qa-log-ids-clear")
    return app


def _setup_logging(**_: Any) -> None:
    """The worker's logging: the platform's handler, with task and call ids on every line
    (connecting this signal also stops Celery from replacing the root logger's handlers)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def _bind_task_ids(task_id: str | None = None, args: Any = None, **_: Any) -> None:
    """Pipeline tasks take ``(call_id, pipeline_version)``: put both ids on the task's lines."""
    call_id = args[0] if args and isinstance(args[0], int) else None
    logs.clear()
    logs.bind(task_id=task_id, call_id=call_id)


def _clear_task_ids(**_: Any) -> None:
    logs.clear()


def get_app(settings: Settings | None = None) -> Celery:
    """The app for ``settings`` (default: the process settings), built once per process."""
    settings = settings or get_settings()
    if settings not in _apps:
        _apps[settings] = make_celery(settings)
    return _apps[settings]


Dispatch = Callable[[Stage, int, str], None]


def dispatcher(settings: Settings) -> Dispatch:
    """A ``Dispatch`` for the services: sends a stage's task with ids only."""
    return app_dispatcher(get_app(settings))


def app_dispatcher(app: Celery) -> Dispatch:
    """Send ``stage`` of ``call_id`` through ``app`` to the stage's queue (after commit)."""

    def dispatch(stage: Stage, call_id: int, pipeline_version: str) -> None:
        app.tasks[stage.task].apply_async(args=(call_id, pipeline_version), queue=stage.queue)

    return dispatch


def _load_models_after_fork(**_: Any) -> None:
    from workers import runtime

    try:
        runtime.warm_up(get_settings())
    except Exception:  # the task will load lazily and fail with its own clear error
        log.exception("worker process %s: loading models failed", os.getpid())


def __getattr__(name: str) -> Celery:
    if name in ("app", "celery"):
        return get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
