"""Report periods in centre time: a day, an ISO week (Monday to Sunday), a calendar month, a
quarter (Q1 = January–March) or a half-year (H1 = January–June; seed 002 §5.3 asks for
quarterly and half-year analyses besides the daily, weekly and monthly ones)."""

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
    """Which report: 品质日报, 周报, 月报, 季报 (quarterly), 半年报 (half-yearly)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"


KIND_TITLES = {
    ReportKind.DAILY: "品质日报",
    ReportKind.WEEKLY: "品质周报",
    ReportKind.MONTHLY: "品质月报",
    ReportKind.QUARTERLY: "品质季报",
    ReportKind.HALF_YEARLY: "品质半年报",
}
KIND_NAMES = {  # short Chinese names (lists, forms)
    ReportKind.DAILY: "日报",
    ReportKind.WEEKLY: "周报",
    ReportKind.MONTHLY: "月报",
    ReportKind.QUARTERLY: "季报",
    ReportKind.HALF_YEARLY: "半年报",
}
_MONTHS = {ReportKind.MONTHLY: 1, ReportKind.QUARTERLY: 3, ReportKind.HALF_YEARLY: 6}


@dataclass(frozen=True)
class Period:
    """[start, end) in local dates of the centre."""

    kind: ReportKind
    start: date
    end: date

    @property
    def label(self) -> str:
        """2026-11-24 (day), 2026-W48 (ISO week), 2026-11 (month), 2026-Q4, 2026-H2."""
        if self.kind is ReportKind.DAILY:
            return self.start.isoformat()
        if self.kind is ReportKind.WEEKLY:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is ReportKind.QUARTERLY:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind is ReportKind.HALF_YEARLY:
            return f"{self.start.year}-H{(self.start.month - 1) // 6 + 1}"
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
    """``daily`` | ``weekly`` | ``monthly`` | ``quarterly`` | ``half_yearly``; PeriodError
    otherwise."""
    try:
        return ReportKind(str(kind))
    except ValueError:
        raise PeriodError(
            f"report kind {str(kind)[:40]!r} must be one of {', '.join(ReportKind)}"
        ) from None


def period_for(kind: str | ReportKind, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    kind = parse_kind(kind)
    if kind is ReportKind.DAILY:
        return Period(kind, day, day + timedelta(days=1))
    if kind is ReportKind.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return Period(kind, monday, monday + timedelta(days=7))
    months = _MONTHS[kind]
    first = date(day.year, (day.month - 1) // months * months + 1, 1)
    end_month = first.month - 1 + months  # 0-based month index of the next period's start
    following = date(first.year + end_month // 12, end_month % 12 + 1, 1)
    return Period(kind, first, following)


_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_HALF = re.compile(r"^(\d{4})-H([12])$", re.IGNORECASE)


def parse_period(kind: str | ReportKind, text: str) -> Period:
    """A period from a date (2026-11-24) or a label (2026-W48, 2026-11)."""
    kind = parse_kind(kind)
    value = text.strip()
    try:
        if m := _WEEK.match(value):
            period = period_for(kind, date.fromisocalendar(int(m[1]), int(m[2]), 1))
        elif m := _MONTH.match(value):
            period = period_for(kind, date(int(m[1]), int(m[2]), 1))
        elif m := _QUARTER.match(value):
            period = period_for(kind, date(int(m[1]), 3 * int(m[2]) - 2, 1))
        elif m := _HALF.match(value):
            period = period_for(kind, date(int(m[1]), 6 * int(m[2]) - 5, 1))
        else:
            period = period_for(kind, date.fromisoformat(value))
    except (ValueError, OverflowError):
        raise PeriodError(
            f"report date {text[:40]!r} must be a date (2026-11-24), an ISO week (2026-W48), "
            "a month (2026-11), a quarter (2026-Q4) or a half-year (2026-H2)"
        ) from None
    if not (EARLIEST <= period.start and period.end <= LATEST):
        raise PeriodError(
            f"report date {text[:40]!r} is out of range ({EARLIEST.year}..{LATEST.year - 1})"
        )
    return period


EARLIEST = date(1970, 1, 8)  # the previous period (trend) and UTC bounds stay representable
LATEST = date(9000, 1, 1)


def last_complete(kind: str | ReportKind, today: date) -> Period:
    """Yesterday's day, last ISO week, month, quarter or half-year, seen from ``today``."""
    return period_for(kind, today).previous()
