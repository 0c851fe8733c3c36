"""Report periods: a day, an ISO week (Monday to Sunday) or a calendar month, in centre time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from qa_platform.domain.errors import Invalid


class PeriodError(Invalid):
    """A report kind or date that cannot be read; the message names it."""


class ReportKind(StrEnum):
    """Which report: 品质日报 (daily), 周报 (weekly), 月报 (monthly)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


KIND_TITLES = {
    ReportKind.DAILY: "品质日报",
    ReportKind.WEEKLY: "品质周报",
    ReportKind.MONTHLY: "品质月报",
}


@dataclass(frozen=True)
class Period:
    """[start, end) in local dates of the centre."""

    kind: ReportKind
    start: date
    end: date

    @property
    def label(self) -> str:
        """2026-11-24 (day), 2026-W48 (ISO week), 2026-11 (month)."""
        if self.kind is ReportKind.DAILY:
            return self.start.isoformat()
        if self.kind is ReportKind.WEEKLY:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def title(self) -> str:
        return f"{KIND_TITLES[self.kind]} {self.label}"

    def previous(self) -> Period:
        """The period just before this one (for the trend)."""
        return period_for(self.kind, self.start - timedelta(days=1))

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period's [start, end) as UTC instants (calls are stored in UTC)."""
        lo = datetime.combine(self.start, time(), tz).astimezone(UTC)
        hi = datetime.combine(self.end, time(), tz).astimezone(UTC)
        return lo, hi


def parse_kind(kind: str | ReportKind) -> ReportKind:
    """``daily`` | ``weekly`` | ``monthly``; PeriodError otherwise."""
    try:
        return ReportKind(str(kind))
    except ValueError:
        raise PeriodError(f"report kind {kind!r} must be daily, weekly or monthly") from None


def period_for(kind: str | ReportKind, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    kind = parse_kind(kind)
    if kind is ReportKind.DAILY:
        return Period(kind, day, day + timedelta(days=1))
    if kind is ReportKind.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return Period(kind, monday, monday + timedelta(days=7))
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(kind, first, following)


_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_period(kind: str | ReportKind, text: str) -> Period:
    """A period from a date (2026-11-24) or a label (2026-W48, 2026-11)."""
    kind = parse_kind(kind)
    value = text.strip()
    try:
        if m := _WEEK.match(value):
            period = period_for(kind, date.fromisocalendar(int(m[1]), int(m[2]), 1))
        elif m := _MONTH.match(value):
            period = period_for(kind, date(int(m[1]), int(m[2]), 1))
        else:
            period = period_for(kind, date.fromisoformat(value))
    except (ValueError, OverflowError):
        raise PeriodError(
            f"report date {text[:40]!r} must be a date (2026-11-24), an ISO week (2026-W48) "
            "or a month (2026-11)"
        ) from None
    if not (EARLIEST <= period.start and period.end <= LATEST):
        raise PeriodError(
            f"report date {text[:40]!r} is out of range ({EARLIEST.year}..{LATEST.year - 1})"
        )
    return period


EARLIEST = date(1970, 1, 8)  # the previous period (trend) and UTC bounds stay representable
LATEST = date(9000, 1, 1)


def last_complete(kind: str | ReportKind, today: date) -> Period:
    """Yesterday's day, last ISO week or last month, seen from ``today``."""
    return period_for(kind, today).previous()
