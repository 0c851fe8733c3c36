"""Periodic upkeep on Celery beat: the job reconciler and closing appeal windows.

RELIABILITY.md: the database job table is the source of truth, so a reconciler must run
periodically to re-send jobs whose message the broker lost, whose worker died or hit the hard
time limit, and to surface dead letters. Published evaluations become final when their appeal
window (申诉期) has passed. Both tasks are thin and idempotent (a duplicate run changes nothing).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from qa_platform.services import pipeline as pipeline_service
from qa_platform.settings import get_settings
from scoring import services as scoring
from workers import runtime

log = logging.getLogger(__name__)

RECONCILE = "qa.upkeep.reconcile"
CLOSE_WINDOWS = "qa.upkeep.close_appeal_windows"
QUEUE = "cpu"


def beat_schedule(reconcile_every_s: float = 60.0, close_every_s: float = 900.0) -> dict[str, Any]:
    """Beat entries: reconcile every minute, close appeal windows every 15 minutes."""
    return {
        "upkeep-reconcile": {
            "task": RECONCILE,
            "schedule": reconcile_every_s,
            "options": {"queue": QUEUE},
        },
        "upkeep-close-appeal-windows": {
            "task": CLOSE_WINDOWS,
            "schedule": close_every_s,
            "options": {"queue": QUEUE},
        },
    }


def task_routes() -> dict[str, dict[str, str]]:
    return {RECONCILE: {"queue": QUEUE}, CLOSE_WINDOWS: {"queue": QUEUE}}


def reconcile_jobs() -> dict[str, Any]:
    """Re-send lost or stuck pipeline jobs; dead letters are logged as errors (alerting)."""
    result = pipeline_service.reconcile(runtime.platform(get_settings())).to_dict()
    for dead in result["dead_letters"]:
        log.error("dead-lettered job: %s", dead)
    return result


def close_appeal_windows() -> dict[str, Any]:
    """Make every published evaluation whose appeal window has passed final."""
    return scoring.close_appeal_windows(runtime.platform(get_settings()).uow())


def register_upkeep_tasks(app: Celery) -> None:
    app.task(name=RECONCILE, shared=False, ignore_result=True)(reconcile_jobs)
    app.task(name=CLOSE_WINDOWS, shared=False, ignore_result=True)(close_appeal_windows)
