"""The worker exporter (工作节点监控): Prometheus metrics of the pipeline tasks of a node.

``qa worker --metrics-port P`` serves them on ``127.0.0.1:P`` (``--metrics-host`` to widen):

- ``qa_job_duration_seconds{stage,outcome}``: one task run, by what it did — ``completed``
  (this run finished the job), ``retry``, ``failed``, ``skipped`` (a redelivery that found
  the job done or claimed).
- ``qa_job_attempts{stage}``: the attempts a job needed, observed when it completes.
- ``qa_asr_real_time_factor{node}``: ASR stage time ÷ audio duration per transcribed call, and
  ``qa_asr_audio_seconds_total`` / ``qa_asr_compute_seconds_total`` (rate ÷ rate = RTF).

Celery's pool children record through ``PROMETHEUS_MULTIPROC_DIR`` (set before they fork);
the exporter in the worker's main process sums them. Signals only: the tasks are unchanged.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_process_shutdown
from sqlalchemy import select

from qa_platform.domain.pipeline import STAGES, JobStatus
from qa_platform.settings import get_settings
from storage.models import Call, Job

log = logging.getLogger(__name__)

STAGE_OF_TASK = {s.task: s.name for s in STAGES}
_started: dict[str, tuple[float, str | None]] = {}  # task id → (start, job status before)
_made: dict[str, Any] | None = None


def prepare_multiprocess_dir() -> Path:
    """A fresh ``PROMETHEUS_MULTIPROC_DIR`` for this worker (before anything records)."""
    path = Path(tempfile.mkdtemp(prefix="qa-worker-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def _instruments() -> dict[str, Any]:
    """The metric objects, built on first use (after the multiprocess directory is set)."""
    global _made
    if _made is None:
        from prometheus_client import Counter, Histogram

        _made = {
            "seconds": Histogram(
                "qa_job_duration_seconds",
                "Time of one pipeline task run",
                ("stage", "outcome"),
                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800),
            ),
            "attempts": Histogram(
                "qa_job_attempts",
                "Attempts a pipeline job needed to complete",
                ("stage",),
                buckets=(1, 2, 3, 4, 5, 10),
            ),
            "rtf": Histogram(
                "qa_asr_real_time_factor",
                "ASR stage time divided by the audio duration",
                ("node",),
                buckets=(0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5),
            ),
            "audio": Counter("qa_asr_audio_seconds", "Audio transcribed", ("node",)),
            "compute": Counter("qa_asr_compute_seconds", "Time spent transcribing", ("node",)),
        }
    return _made


def _job_state(stage: str, call_id: int, version: str) -> tuple[str | None, int, float]:
    """(status, attempts, call duration) of one job, read in one short transaction."""
    from workers import runtime

    with runtime.platform(get_settings()).uow() as uow:
        row = uow.session.execute(
            select(Job.status, Job.attempts, Call.duration_s)
            .join(Call, Call.id == Job.call_id)
            .where(Job.call_id == call_id, Job.stage == stage, Job.pipeline_version == version)
        ).first()
    if row is None:
        return None, 0, 0.0
    return str(row.status), int(row.attempts), float(row.duration_s or 0.0)


def _ids(task: Any, args: Any) -> tuple[str, int, str] | None:
    stage = STAGE_OF_TASK.get(getattr(task, "name", ""))
    if stage is None or not args or len(args) < 2:
        return None
    return stage, int(args[0]), str(args[1])


def on_prerun(task_id: str | None = None, task: Any = None, args: Any = None, **_: Any) -> None:
    ids = _ids(task, args)
    if ids is None or task_id is None:
        return
    try:
        status = _job_state(*ids)[0]
    except Exception:  # metrics never fail a task
        log.exception("metrics: reading job state failed")
        status = None
    _started[task_id] = (time.perf_counter(), status)


def on_postrun(
    task_id: str | None = None, task: Any = None, args: Any = None, state: Any = None, **_: Any
) -> None:
    ids = _ids(task, args)
    begun = _started.pop(task_id or "", None)
    if ids is None or begun is None:
        return
    seconds = time.perf_counter() - begun[0]
    try:
        status, attempts, duration = _job_state(*ids)
        record(ids[0], seconds, _outcome(state, begun[1], status), attempts, duration, task)
    except Exception:
        log.exception("metrics: recording the task failed")


def _outcome(state: Any, before: str | None, after: str | None) -> str:
    if state == "RETRY":
        return "retry"
    if after == before:
        return "skipped"  # a redelivery, a busy claim: nothing changed
    if after == JobStatus.DONE:
        return "completed"
    if after in (JobStatus.FAILED, JobStatus.DEAD_LETTER):
        return "failed"
    return "retry"


def record(
    stage: str, seconds: float, outcome: str, attempts: int, audio_s: float, task: Any = None
) -> None:
    """Observe one task run (and, for a completed transcription, its real-time factor)."""
    made = _instruments()
    made["seconds"].labels(stage, outcome).observe(seconds)
    if outcome != "completed":
        return
    made["attempts"].labels(stage).observe(attempts)
    if stage == "transcribe" and audio_s > 0:
        node = getattr(getattr(task, "request", None), "hostname", None) or socket.gethostname()
        made["rtf"].labels(node).observe(seconds / audio_s)
        made["audio"].labels(node).inc(audio_s)
        made["compute"].labels(node).inc(seconds)


def _process_gone(pid: int | None = None, **_: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid or os.getpid())


def enable(port: int, host: str = "127.0.0.1") -> None:
    """Record task metrics in every pool process and serve them on ``host:port`` (HTTP)."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # before the client is imported:
        prepare_multiprocess_dir()  # it picks its value store once, at import
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    task_prerun.connect(on_prerun, weak=False, dispatch_uid="qa-metrics-prerun")
    task_postrun.connect(on_postrun, weak=False, dispatch_uid="qa-metrics-postrun")
    worker_process_shutdown.connect(_process_gone, weak=False, dispatch_uid="qa-metrics-gone")
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(port, addr=host, registry=registry)
    log.info("worker metrics on http://%s:%s/metrics", host, port)
