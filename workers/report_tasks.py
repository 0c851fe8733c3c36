"""Celery tasks and beat schedule for the quality reports (品质日报/周报/月报).

The pipeline's Celery app includes them with::

    from workers.report_tasks import beat_schedule, register_report_tasks
    register_report_tasks(app)
    app.conf.task_routes = {**app.conf.task_routes, **task_routes()}
    app.conf.beat_schedule = {**app.conf.beat_schedule, **beat_schedule()}

Beat (in the centre's time zone, ``app.conf.timezone``) computes yesterday's daily report at
01:00, last ISO week's on Monday at 01:30 and last month's on the 1st at 02:00. The tasks are
thin: they take an optional ISO date and call ``scoring.reports.compute_report``, which is
idempotent (identical figures add no version), so a redelivered message is harmless. Without a
broker (the embedded default) ``qa report … --recompute`` computes the same on demand.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from celery import Celery
from celery.schedules import crontab

from qa_platform.clock import utc_now
from qa_platform.settings import get_settings
from scoring.reports import ReportKind, centre_tz, compute_report, last_complete
from storage.uow import UnitOfWork

TASK_NAMES = {kind: f"qa.reports.{kind}" for kind in ReportKind}
QUEUE = "cpu"


def beat_schedule() -> dict[str, dict[str, Any]]:
    """Celery beat entries: daily 01:00, weekly Monday 01:30, monthly on the 1st at 02:00,
    quarterly on 1 Jan/Apr/Jul/Oct at 02:30, half-yearly on 1 Jan/Jul at 03:00."""
    when = {
        ReportKind.DAILY: crontab(minute=0, hour=1),
        ReportKind.WEEKLY: crontab(minute=30, hour=1, day_of_week="mon"),
        ReportKind.MONTHLY: crontab(minute=0, hour=2, day_of_month="1"),
        ReportKind.QUARTERLY: crontab(
            minute=30, hour=2, day_of_month="1", month_of_year="1,4,7,10"
        ),
        ReportKind.HALF_YEARLY: crontab(minute=0, hour=3, day_of_month="1", month_of_year="1,7"),
    }
    return {
        f"reports-{kind}": {
            "task": TASK_NAMES[kind],
            "schedule": when[kind],
            "options": {"queue": QUEUE},
        }
        for kind in ReportKind
    }


def run_report(kind: str, day: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Compute the report of ``kind`` for ``day`` (ISO date), default the last complete period."""
    settings = get_settings()
    now = now or utc_now()
    target = (
        date.fromisoformat(day)
        if day
        else last_complete(kind, now.astimezone(centre_tz(settings)).date()).start
    )
    snap = compute_report(UnitOfWork(settings), kind, target, now=now, actor="beat")
    return {k: snap[k] for k in ("id", "kind", "period_label", "version", "status", "created")}


def _make_task(kind: ReportKind) -> Any:
    def report_task(day: str | None = None, **_later_kwargs: Any) -> dict[str, Any]:
        return run_report(str(kind), day)

    report_task.__name__ = f"report_{kind}_task"
    report_task.__doc__ = f"Compute the {kind} quality report (ids and dates only)."
    return report_task


def task_routes() -> dict[str, dict[str, str]]:
    """Routes of the report tasks (queue cpu), to merge into ``app.conf.task_routes``."""
    return {name: {"queue": QUEUE} for name in TASK_NAMES.values()}


def register_report_tasks(app: Celery) -> None:
    """Register ``qa.reports.<kind>`` for every report kind on ``app``; route them with ``task_routes``."""
    for kind in ReportKind:
        app.task(
            _make_task(kind),
            name=TASK_NAMES[kind],
            shared=False,
            acks_late=True,
            reject_on_worker_lost=True,
            ignore_result=True,
        )
