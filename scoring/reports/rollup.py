"""The daily report roll-ups (日汇总) as a service: rebuild or repair them, say what they cover.

The rows are kept by ``storage.rollups`` in the transactions that change calls and flags; this
module is what ``qa report rollup`` calls. A rebuild recounts every day from ``since`` and is
audited; the monthly report reads the roll-up once it covers the whole period.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from qa_platform.clock import utc_now
from scoring.reports.periods import PeriodError
from storage import rollups
from storage.audit import append_audit
from storage.rollups import RebuildResult
from storage.uow import UnitOfWork

EARLIEST = date(2000, 1, 1)


def rebuild_rollups(
    uow: UnitOfWork,
    since: date | None = None,
    now: datetime | None = None,
    actor: str = "system",
) -> RebuildResult:
    """Recount the roll-ups from ``since`` (default: the first call's day) in one transaction."""
    now = now or utc_now()
    if since is not None and not EARLIEST <= since <= now.date() + timedelta(days=1):
        raise PeriodError(f"--since {since.isoformat()} 超出范围 (out of range)")
    with uow:
        result = rollups.rebuild(uow.session, uow.settings.centre_timezone, now, since)
        append_audit(
            uow.session,
            actor=actor,
            action="report.rollup_rebuild",
            object_type="report_rollup",
            object_id=rollups.STATE_ID,
            details=result.to_dict(),
            at=now,
        )
        uow.commit()
        return result
