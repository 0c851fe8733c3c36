"""Working-day calendar (工作日历) for appeal windows.

Weekends are rest days unless listed as make-up working days (调休上班); listed holidays are rest
days even on weekdays. Holidays are data: pass them in, or load a YAML mapping
``{holidays: [YYYY-MM-DD, ...], makeup_workdays: [...]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from qa_platform.domain.errors import Invalid


class CalendarError(Invalid):
    """Bad calendar data; the message names the entry."""


def _to_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise CalendarError(f"{value!r} is not a YYYY-MM-DD date") from None


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    weekend: frozenset[int] = frozenset({5, 6})  # Monday is 0

    def __post_init__(self) -> None:
        both = self.holidays & self.makeup_workdays
        if both:
            raise CalendarError(f"{sorted(both)[0]} is both a holiday and a make-up working day")

    def is_working_day(self, day: date) -> bool:
        """True on a weekday that is not a holiday, or on a make-up working day."""
        if day in self.makeup_workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day strictly after ``start`` (n ≥ 1)."""
        if n < 1:
            raise CalendarError(f"working days {n} must be >= 1")
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return day

    def deadline_after(self, moment: datetime, working_days: int) -> datetime:
        """End of the ``working_days``-th working day after ``moment``'s date (exclusive bound).

        Published on Friday with 3 working days → the window closes at 00:00 on the following
        Thursday (Mon, Tue, Wed count). The bound keeps ``moment``'s tzinfo.
        """
        last = self.add_working_days(moment.date(), working_days)
        return datetime.combine(last + timedelta(days=1), time(0), tzinfo=moment.tzinfo)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Iterable[Any]]) -> WorkingCalendar:
        """Build from ``{holidays: [...], makeup_workdays: [...]}``."""
        unknown = set(data) - {"holidays", "makeup_workdays"}
        if unknown:
            raise CalendarError(f"unknown calendar fields {sorted(unknown)}")
        return cls(
            frozenset(_to_date(d) for d in data.get("holidays") or ()),
            frozenset(_to_date(d) for d in data.get("makeup_workdays") or ()),
        )

    @classmethod
    def load(cls, path: str | Path) -> WorkingCalendar:
        """Load a YAML calendar file."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CalendarError(f"cannot read calendar {path}: {exc}") from None
        return cls.from_mapping(data)
