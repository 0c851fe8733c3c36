"""Complaint cases (投诉工单) and their closed loop (闭环): the rules as plain code.

seeds/004 第十二条: a grievance (抱怨) is dissatisfaction settled by an explanation or apology,
without a case file; a complaint (投诉) is a dispute that needs a case; a major complaint (重大投诉,
第十四条) involves the media, a regulator, the consumer association or 10 or more people.
Deadlines count working days from acceptance (受理): a grievance within 2 working days (第十三条
(二)(3)), a complaint within 10 (第十三条(三)(6)); a major complaint keeps the 10 days and is
escalated. A case the rules propose (from the ``complaint_risk`` flag) waits for a person to
confirm or dismiss it; closing needs an outcome. Illegal transitions raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from qa_platform.domain.errors import Conflict, Invalid, NotFound
from scoring.calendar import WorkingCalendar

MAX_TEXT = 2000  # characters of a summary or an outcome
#: A supervisor is alerted at most this long after the call's analysis (seeds/003 二(一)4).
ALERT_WITHIN = timedelta(minutes=10)


class ComplaintKind(StrEnum):
    """抱怨 / 一般投诉 / 重大投诉."""

    GRIEVANCE = "grievance"
    COMPLAINT = "complaint"
    MAJOR = "major"


class CaseState(StrEnum):
    PROPOSED = "proposed"  # raised by the rules, not yet confirmed by a person
    OPEN = "open"
    CLOSED = "closed"
    DISMISSED = "dismissed"  # a proposal a person found to be no complaint


#: Working days from acceptance to closing (处理时效).
DEADLINE_WORKING_DAYS = {
    ComplaintKind.GRIEVANCE: 2,
    ComplaintKind.COMPLAINT: 10,
    ComplaintKind.MAJOR: 10,
}


class ComplaintNotFound(NotFound):
    pass


class ComplaintConflict(Conflict):
    """The case is not in a state that allows the action (or someone changed it first)."""


class ComplaintInvalid(Invalid):
    """A field of a complaint command is wrong; the message names it."""


def parse_kind(value: str) -> ComplaintKind:
    try:
        return ComplaintKind(value)
    except ValueError:
        raise ComplaintInvalid.of(
            "complaint.bad_kind", value=value, allowed=", ".join(k.value for k in ComplaintKind)
        ) from None


def clean_text(field: str, value: str, *, required: bool) -> str:
    """A ``summary``, ``outcome`` or ``reason``: stripped, required where it must be, at most
    ``MAX_TEXT`` characters; the error names the field in the reader's language."""
    text = (value or "").strip()
    if required and not text:
        raise ComplaintInvalid.of(f"complaint.{field}_required")
    if len(text) > MAX_TEXT:
        raise ComplaintInvalid.of(f"complaint.{field}_too_long", limit=MAX_TEXT, length=len(text))
    return text


def deadline_for(
    kind: ComplaintKind, accepted_at: datetime, calendar: WorkingCalendar, timezone: str
) -> datetime:
    """End of the last working day to close a case accepted at ``accepted_at`` (centre's days)."""
    from zoneinfo import ZoneInfo

    local = accepted_at.astimezone(ZoneInfo(timezone))
    return calendar.deadline_after(local, DEADLINE_WORKING_DAYS[kind])


@dataclass
class ComplaintCase:
    """One case and the transitions a person may make."""

    id: int
    kind: ComplaintKind
    state: CaseState
    deadline_at: datetime

    def _require(self, action: str, *allowed: CaseState) -> None:
        if self.state not in allowed:
            raise ComplaintConflict.of(
                "complaint.bad_state",
                case=self.id,
                action=action,
                state=self.state.value,
                states=[s.value for s in allowed],
            )

    def confirm(self, kind: ComplaintKind | None = None) -> None:
        """A person confirms a proposed case (proposed → open), possibly re-classifying it."""
        self._require("confirm", CaseState.PROPOSED)
        self.state, self.kind = CaseState.OPEN, kind or self.kind

    def dismiss(self, reason: str) -> str:
        """A person finds a proposal is no complaint (proposed → dismissed); reason required."""
        self._require("dismiss", CaseState.PROPOSED)
        text = clean_text("reason", reason, required=True)
        self.state = CaseState.DISMISSED
        return text

    def close(self, outcome: str) -> str:
        """Close an open case with its outcome (处理结果, required)."""
        self._require("close", CaseState.OPEN)
        text = clean_text("outcome", outcome, required=True)
        self.state = CaseState.CLOSED
        return text

    def overdue(self, now: datetime) -> bool:
        """Still unresolved at or after its deadline (超时)."""
        return self.state in (CaseState.PROPOSED, CaseState.OPEN) and now >= self.deadline_at
