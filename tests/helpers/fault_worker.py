"""Celery app for the fault tests' worker processes: the real pipeline tasks plus one job
that kills the process running it (the fake is the job; the worker is real).

Started as ``celery -A tests.helpers.fault_worker worker``; settings come from ``QA_*``.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from celery import Task

from qa_platform.services.context import Platform
from workers.celery_app import get_app
from workers.tasks import StageWork, run_stage

KILLER_TASK = "qa.test.features_kills_worker"

app = get_app()


def _kill_own_process(platform: Platform, call_id: int) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


@app.task(name=KILLER_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, shared=False)
def features_kills_worker(self: Task, call_id: int, pipeline_version: str) -> str:
    """The ``features`` stage of a call, whose computation kills its worker process."""
    work = StageWork(_kill_own_process, lambda *_: None)
    return run_stage(self, "features", call_id, pipeline_version, work)
