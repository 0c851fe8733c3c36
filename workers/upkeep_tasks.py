"""Periodic upkeep on Celery beat: the job reconciler, closing appeal windows, retention purge.

RELIABILITY.md: the database job table is the source of truth, so a reconciler must run
periodically to re-send jobs whose message the broker lost, whose worker died or hit the hard
time limit, and to surface dead letters. Published evaluations become final when their appeal
window (申诉期) has passed. Calls past their retention date (保存期限) are shredded once a day; a
centre without a broker runs the same service from cron (`qa retention purge`, docs/cli.md).
Every task is thin and idempotent (a duplicate run changes nothing).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from celery.schedules import crontab

from qa_platform.services import complaints as complaint_service
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services import retention as retention_service
from qa_platform.settings import get_settings
from scoring import services as scoring
from workers import runtime

log = logging.getLogger(__name__)

RECONCILE = "qa.upkeep.reconcile"
CLOSE_WINDOWS = "qa.upkeep.close_appeal_windows"
PURGE = "qa.upkeep.retention_purge"
COMPLAINT_SCAN = "qa.upkeep.complaint_scan"
#: Complaint proposals and alerts every minute: a supervisor hears of a flagged call well
#: within the 10 minutes of seeds/003 二(一)4 after its analysis.
COMPLAINT_SCAN_EVERY_S = 60.0
#: Beat runs the purge at 02:30 in the centre's time zone (the app's ``timezone``), off-peak.
PURGE_AT = {"hour": 2, "minute": 30}
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
        "upkeep-retention-purge": {
            "task": PURGE,
            "schedule": crontab(**PURGE_AT),
            "options": {"queue": QUEUE},
        },
        "upkeep-complaint-scan": {
            "task": COMPLAINT_SCAN,
            "schedule": COMPLAINT_SCAN_EVERY_S,
            "options": {"queue": QUEUE},
        },
    }


def task_routes() -> dict[str, dict[str, str]]:
    names = (RECONCILE, CLOSE_WINDOWS, PURGE, COMPLAINT_SCAN)
    return {name: {"queue": QUEUE} for name in names}


def reconcile_jobs() -> dict[str, Any]:
    """Re-send lost or stuck pipeline jobs; dead letters are logged as errors (alerting)."""
    result = pipeline_service.reconcile(runtime.platform(get_settings())).to_dict()
    for dead in result["dead_letters"]:
        log.error("dead-lettered job: %s", dead)
    return result


def close_appeal_windows() -> dict[str, Any]:
    """Make every published evaluation whose appeal window has passed final."""
    return scoring.close_appeal_windows(runtime.platform(get_settings()).uow())


def retention_purge() -> dict[str, Any]:
    """Shred every call past its retention date that no legal hold protects (daily)."""
    items = retention_service.purge(runtime.platform(get_settings()), actor="beat:retention")
    purged = [i.call_id for i in items if i.purged]
    log.info("retention purge: %d calls shredded", len(purged))
    return {"purged": purged, "skipped": [i.call_id for i in items if not i.purged]}


def complaint_scan() -> dict[str, Any]:
    """Propose complaint cases from flags and deliver pending supervisor alerts."""
    return complaint_service.scan(runtime.platform(get_settings())).to_dict()


def register_upkeep_tasks(app: Celery) -> None:
    app.task(name=RECONCILE, shared=False, ignore_result=True)(reconcile_jobs)
    app.task(name=CLOSE_WINDOWS, shared=False, ignore_result=True)(close_appeal_windows)
    app.task(name=PURGE, shared=False, ignore_result=True)(retention_purge)
    app.task(name=COMPLAINT_SCAN, shared=False, ignore_result=True)(complaint_scan)
