"""The context of an outbound call for the outbound rules (外呼上下文).

The rules in :mod:`qa_platform.flags.outbound` are pure; this module reads what they need from
the database and the settings: the call's start, the centre's time zone (``QA_CENTRE_TIMEZONE``),
the working calendar (``QA_HOLIDAY_CALENDAR_PATH``, else the packaged
``qa_platform/data/calendar/cn_2026.yaml``) and the customer's earlier refusals (calls of the
same customer number flagged ``outbound_refusal`` within the cooling period before this call).

The customer is recognised by the masked number stored on the call (138****5678): the raw number
is never stored, so two customers sharing the first three and last four digits count as one.
A dialler that sends a customer id would make the match exact.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.flags.outbound import OutboundContext
from qa_platform.settings import Settings
from scoring.calendar import WorkingCalendar
from storage.models import Call, CallFlag

#: How far back refusals are looked for; the rule set's ``cooling_days`` decides what counts.
REFUSAL_LOOKBACK = timedelta(days=366)


def default_calendar_path() -> Path:
    """The packaged working calendar (China's 2026 holidays and make-up working days)."""
    return Path(str(resources.files("qa_platform") / "data" / "calendar" / "cn_2026.yaml"))


def centre_calendar(settings: Settings) -> WorkingCalendar:
    """The centre's working calendar (工作日历): the configured file or the packaged one."""
    path = Path(settings.holiday_calendar_path) if settings.holiday_calendar_path else None
    target = path or default_calendar_path()
    return _load_calendar(str(target))


@lru_cache(maxsize=8)
def _load_calendar(path: str) -> WorkingCalendar:
    return WorkingCalendar.load(path)


def outbound_context(session: Session, call: Call, settings: Settings) -> OutboundContext | None:
    """The context of an outbound call (None for an inbound one)."""
    if call.direction != "out":
        return None
    return OutboundContext(
        started_at=call.started_at,
        timezone=settings.centre_timezone,
        calendar=centre_calendar(settings),
        refusals=tuple(earlier_refusals(session, call)),
    )


def earlier_refusals(session: Session, call: Call) -> list[datetime]:
    """Start times of earlier outbound calls to the same customer that the customer refused."""
    if not call.customer_phone_masked:
        return []
    rows = session.scalars(
        select(Call.started_at)
        .join(CallFlag, CallFlag.call_id == Call.id)
        .where(
            Call.customer_phone_masked == call.customer_phone_masked,
            Call.direction == "out",
            Call.id != call.id,
            Call.started_at < call.started_at,
            Call.started_at >= call.started_at - REFUSAL_LOOKBACK,
            CallFlag.type == "outbound_refusal",
        )
        .distinct()
    )
    return list(rows)
