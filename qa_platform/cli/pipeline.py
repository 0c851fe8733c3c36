"""Pipeline commands: ``qa worker``, ``qa process``, ``qa reconcile``, ``qa retry``.

``qa process`` enqueues every call that needs work. In the embedded default (no
``QA_BROKER_URL``) the same Celery tasks run eagerly in this process, so it returns when the
calls are analysed; with a broker, ``--wait`` shows a progress bar until they settle.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from qa_platform.cli import ID, SECONDS, FiniteFloat, emit, platform
from qa_platform.domain.pipeline import QUEUES
from qa_platform.services import pipeline as pipeline_service


@click.command()
@click.option(
    "--queues",
    "-Q",
    default=",".join(QUEUES),
    show_default=True,
    help="Comma-separated queues to consume (cpu, gpu).",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1, max=1024),
    default=None,
    help="Worker processes (default: Celery's, the number of CPUs).",
)
@click.option(
    "--loglevel",
    "-l",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
@click.option("--hostname", "-n", default=None, help="Worker node name (name@host).")
@click.option("--pool", type=click.Choice(["prefork", "solo", "threads"]), default=None)
@click.option(
    "--beat",
    is_flag=True,
    help="Also run the periodic schedule (reconciler, appeal windows, reports); "
    "exactly one node of the cluster should.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve Prometheus metrics of this node's tasks on this port (docs/deploy.md).",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics port listens on (keep it private: no authentication).",
)
def worker(
    queues: str,
    concurrency: int | None,
    loglevel: str,
    hostname: str | None,
    pool: str | None,
    beat: bool,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Start a Celery worker for the speech pipeline (needs QA_BROKER_URL)."""
    plat = platform()
    if plat.settings.eager:
        raise click.UsageError(
            "QA_BROKER_URL is not set: the embedded mode runs tasks in "
            "process (use `qa process`); set an amqp:// (RabbitMQ) or redis:// URL to run workers"
        )
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(QUEUES))
    if not wanted or unknown:
        raise click.BadParameter(
            f"unknown queue(s) {unknown or queues!r}; known: {', '.join(QUEUES)}",
            param_hint="--queues",
        )
    from storage.broker import check_consumer_timeout, durable_broker

    durable_broker(plat.settings)  # a Redis without persistence: refused in production
    check_consumer_timeout(plat.settings)  # RabbitMQ cutting long tasks: refused in production
    argv = _worker_argv(wanted, concurrency, loglevel, hostname, pool) + (
        ["--beat"] if beat else []
    )
    from workers.celery_app import get_app  # the worker node is the one place Celery runs

    if metrics_port is not None:
        from workers import metrics

        metrics.enable(metrics_port, metrics_host)
    get_app(plat.settings).worker_main(argv)


def _worker_argv(
    queues: list[str],
    concurrency: int | None,
    loglevel: str,
    hostname: str | None,
    pool: str | None,
) -> list[str]:
    argv = ["worker", "--queues", ",".join(queues), "--loglevel", loglevel.upper()]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if hostname:
        argv += ["--hostname", hostname]
    if pool:
        argv += ["--pool", pool]
    return argv


@click.command()
@click.option("--wait", is_flag=True, help="Show progress until every enqueued call settles.")
@click.option("--timeout", type=SECONDS, default=None, help="Stop waiting after this many seconds.")
@click.option("--json", "as_json", is_flag=True)
def process(wait: bool, timeout: float | None, as_json: bool) -> None:
    """Enqueue every call that needs analysis (transcript, features, flags).

    Exit 1 if any of the enqueued calls ended ``failed``.
    """
    plat = platform()
    call_ids = pipeline_service.enqueue_pending(plat)
    if wait and not plat.settings.eager and call_ids:
        _wait(plat, call_ids, timeout, show=not as_json)
    states = pipeline_service.call_states(plat, call_ids)
    report = {
        "enqueued": call_ids,
        "eager": plat.settings.eager,
        "calls": states,
        "progress": pipeline_service.progress(plat).to_dict(),
    }
    emit(report, as_json, _text(report))
    if any(c["status"] == "failed" for c in states):
        sys.exit(1)


def _wait(plat: Any, call_ids: list[int], timeout: float | None, show: bool) -> None:
    from tqdm import tqdm

    started = time.monotonic()
    with tqdm(
        total=len(call_ids), unit="call", desc="process", disable=not show, file=sys.stderr
    ) as bar:
        while True:
            settled = pipeline_service.settled_count(plat, call_ids)
            bar.update(settled - bar.n)
            if settled >= len(call_ids):
                return
            if timeout is not None and time.monotonic() - started > timeout:
                click.echo(f"stopped waiting after {timeout:.0f} s", err=True)
                return
            time.sleep(1.0)


def _text(report: dict[str, Any]) -> str:
    if not report["enqueued"]:
        return "nothing to process"
    lines = [
        f"call {c['id']}: {c['status']}" + (f" ({c['error']})" if c["error"] else "")
        for c in report["calls"]
    ]
    return "\n".join(lines)


@click.command()
@click.option(
    "--every",
    type=FiniteFloat(min=1.0, max=86400.0),
    default=None,
    help="Keep running, reconciling every N seconds (a periodic reconciler).",
)
@click.option("--json", "as_json", is_flag=True)
def reconcile(every: float | None, as_json: bool) -> None:
    """Re-send pipeline jobs that are stuck past their deadline; list dead letters.

    Exit 1 when dead letters exist (something needs a person).
    """
    plat = platform()
    while True:
        result = pipeline_service.reconcile(plat)
        emit(result.to_dict(), as_json, _reconcile_text(result))
        if every is None:
            break
        time.sleep(every)
    if result.dead_letters:
        sys.exit(1)


def _reconcile_text(result: Any) -> str:
    lines = [f"resent call {r['call_id']} {r['stage']} (was {r['was']})" for r in result.resent]
    lines += [
        f"DEAD LETTER call {d['call_id']} {d['stage']}: {d['error']}" for d in result.dead_letters
    ]
    return "\n".join(lines) or "nothing stuck"


@click.command()
@click.argument("call_id", type=ID)
@click.option("--stage", default=None, help="Retry only this stage (default: every failed one).")
@click.option("--json", "as_json", is_flag=True)
def retry(call_id: int, stage: str | None, as_json: bool) -> None:
    """Reset a call's failed or dead-lettered jobs and queue it again (audited ``job.retry``).

    Embedded mode runs the work in this process; with a broker the stage is sent to workers.
    """
    from qa_platform.services.pipeline_retry import retry_call

    result = retry_call(platform(), call_id, actor="cli", stage=stage, run_in_process=True)
    emit(result.to_dict(), as_json, _retry_text(result))


def _retry_text(result: Any) -> str:
    was = ", ".join(f"{s} (was {result.previous[s]})" for s in result.stages)
    return f"call {result.call_id}: reset {was}; now {result.status}" + (
        "" if result.sent else "; waiting for `qa process` or a worker"
    )


COMMANDS = [worker, process, reconcile, retry]
