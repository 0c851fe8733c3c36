"""Prometheus metrics (监控指标) of the web node: ``GET /metrics`` in the text format.

- ``qa_http_request_duration_seconds{method,route,status}``: latency by URL rule
  (``/calls/<int:call_id>``, never the raw path, so ids do not explode the label set).
- ``qa_jobs{stage,status}``: pipeline jobs not finished per stage (queued, running,
  failed_transient) and ``qa_dead_letters{stage}``, read from the jobs table at scrape time
  (the database is the source of truth, whichever broker carries the messages).
- ``qa_job_attempts_max{stage}``: the most attempts an unfinished job of the stage has used.

Under gunicorn every process writes its samples to ``PROMETHEUS_MULTIPROC_DIR`` (set by
``qa web`` before the workers fork) and a scrape of any process sums them all. Anonymous
users on a public port get nothing: ``/metrics`` answers only a bearer ``QA_METRICS_TOKEN``,
or, without a token configured, requests from the loopback address (404 otherwise).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, abort, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from qa_platform.domain.pipeline import STAGE_NAMES, JobStatus
from qa_platform.services.context import Platform
from storage.models import Job
from web.policy import policy
from web.views import platform

bp = Blueprint("metrics", __name__)
access_log = logging.getLogger("qa.web.access")
LOOPBACK = frozenset({"127.0.0.1", "::1"})
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED_TRANSIENT)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)

HTTP_LATENCY = Histogram(
    "qa_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL rule",
    ("method", "route", "status"),
    buckets=LATENCY_BUCKETS,
)


class JobsCollector(Collector):
    """Queue depth, dead letters and attempts per stage from the jobs table (one query)."""

    def __init__(self, plat: Platform) -> None:
        self.plat = plat

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("qa_jobs", "Unfinished pipeline jobs", labels=("stage", "status"))
        dead = GaugeMetricFamily("qa_dead_letters", "Dead-lettered jobs", labels=("stage",))
        attempts = GaugeMetricFamily(
            "qa_job_attempts_max", "Most attempts used by an unfinished job", labels=("stage",)
        )
        counts = {(s, str(st)): 0 for s in STAGE_NAMES for st in (*UNFINISHED, "dead_letter")}
        most = dict.fromkeys(STAGE_NAMES, 0)
        wanted = [*UNFINISHED, JobStatus.DEAD_LETTER]
        with self.plat.uow() as uow:
            rows = uow.session.execute(
                select(Job.stage, Job.status, func.count(), func.max(Job.attempts))
                .where(Job.status.in_(wanted))
                .group_by(Job.stage, Job.status)
            ).all()
        for stage, status, count, max_attempts in rows:
            counts[(stage, str(status))] = int(count)
            if status != JobStatus.DEAD_LETTER:
                most[stage] = max(most.get(stage, 0), int(max_attempts or 0))
        for (stage, status), count in sorted(counts.items()):
            if status == JobStatus.DEAD_LETTER:
                dead.add_metric([stage], count)
            else:
                depth.add_metric([stage, status], count)
        for stage, value in sorted(most.items()):
            attempts.add_metric([stage], value)
        yield from (depth, dead, attempts)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape(plat: Platform) -> bytes:
    """The text exposition: this process (or, under gunicorn, every process) plus the jobs."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(HTTP_LATENCY)
    registry.register(JobsCollector(plat))
    return generate_latest(registry)


def trusted_scraper() -> bool:
    """The bearer ``QA_METRICS_TOKEN`` when one is set; else only the loopback address."""
    token = platform().settings.metrics_token
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOOPBACK


@bp.get("/metrics")
@policy(public=True)
def metrics() -> Any:
    """Prometheus text format; 404 to anyone but the configured scraper (not even a hint)."""
    if not trusted_scraper():
        abort(404)
    response = Response(scrape(platform()), mimetype=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer_scraper() -> Any:
    """``before_request`` ahead of sign-in: the scraper's bearer token is not an API token,
    so ``/metrics`` is answered here, before ``web.policy`` would refuse the header."""
    if request.endpoint == "metrics.metrics":
        return metrics()
    return None


def _start_timer() -> None:
    g.qa_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("qa_started", None)
    if started is not None and request.endpoint != "metrics.metrics":
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        seconds = time.perf_counter() - started
        HTTP_LATENCY.labels(request.method, route, str(response.status_code)).observe(seconds)
        # the access log: one line per request, with the user id the policy bound
        access_log.info(
            "%s %s %s %.1f ms", request.method, route, response.status_code, seconds * 1000
        )
    return response


def instrument(app: Flask) -> None:
    """Time every request of ``app`` (register before the other hooks: it runs first)."""
    hooks = app.before_request_funcs.setdefault(None, [])
    hooks.insert(0, _answer_scraper)
    hooks.insert(0, _start_timer)
    app.after_request(_observe)
