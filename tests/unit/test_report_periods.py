"""Report periods (day, ISO week, month in centre time), the beat schedule and the diff."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from celery import Celery

from scoring.reports import (
    PeriodError,
    diff_payloads,
    last_complete,
    parse_period,
    period_for,
    visible_report,
)
from workers.report_tasks import TASK_NAMES, beat_schedule, register_report_tasks, task_routes

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_iso_week_across_the_year_boundary():
    week = period_for("weekly", date(2027, 1, 1))  # a Friday in ISO week 2026-W53
    assert (week.start, week.end, week.label) == (date(2026, 12, 28), date(2027, 1, 4), "2026-W53")
    assert week.previous().label == "2026-W52"


def test_month_and_day_periods():
    month = period_for("monthly", date(2026, 2, 14))
    assert (month.start, month.end, month.label, month.title) == (
        date(2026, 2, 1),
        date(2026, 3, 1),
        "2026-02",
        "品质月报 2026-02",
    )
    assert period_for("daily", date(2026, 3, 1)).previous().label == "2026-02-28"


def test_periods_are_local_days_in_utc():
    lo, hi = period_for("daily", date(2026, 3, 2)).utc_bounds(SHANGHAI)
    assert (lo, hi) == (datetime(2026, 3, 1, 16, tzinfo=UTC), datetime(2026, 3, 2, 16, tzinfo=UTC))


def test_parse_labels_and_reject_nonsense():
    assert parse_period("weekly", "2026-W10").start == date(2026, 3, 2)
    assert parse_period("monthly", "2026-11").end == date(2026, 12, 1)
    assert parse_period("daily", "2026-11-24").label == "2026-11-24"
    with pytest.raises(PeriodError, match="must be a date"):
        parse_period("daily", "2026-13-40")
    with pytest.raises(PeriodError, match="daily, weekly, monthly, quarterly, half_yearly"):
        parse_period("yearly", "2026")


def test_quarters_and_half_years_seed_002_5_3():
    q = parse_period("quarterly", "2026-Q4")
    assert (q.start, q.end, q.label, q.title) == (
        date(2026, 10, 1),
        date(2027, 1, 1),
        "2026-Q4",
        "品质季报 2026-Q4",
    )
    assert period_for("quarterly", date(2026, 3, 31)).label == "2026-Q1"
    assert period_for("quarterly", date(2026, 4, 1)).label == "2026-Q2"
    assert parse_period("quarterly", "2026-05").label == "2026-Q2"  # the quarter of a month
    assert (
        q.previous().label == "2026-Q3"
        and parse_period("quarterly", "2026-Q1").previous().label == "2025-Q4"
    )
    h = parse_period("half_yearly", "2026-h2")
    assert (h.start, h.end, h.title) == (date(2026, 7, 1), date(2027, 1, 1), "品质半年报 2026-H2")
    assert period_for("half_yearly", date(2026, 6, 30)).label == "2026-H1"
    assert h.previous().label == "2026-H1" and h.previous().previous().label == "2025-H2"
    for bad in ("2026-Q5", "2026-Q0", "2026-H3"):
        with pytest.raises(PeriodError, match="must be a date"):
            parse_period("quarterly", bad)


def test_last_complete_period():
    today = date(2026, 11, 25)  # a Wednesday
    assert last_complete("daily", today).label == "2026-11-24"
    assert last_complete("weekly", today).label == "2026-W47"
    assert last_complete("monthly", today).label == "2026-10"
    assert last_complete("quarterly", today).label == "2026-Q3"
    assert last_complete("half_yearly", today).label == "2026-H1"


def test_beat_schedule_and_task_names():
    schedule = beat_schedule()
    assert {e["task"] for e in schedule.values()} == {
        "qa.reports.daily",
        "qa.reports.weekly",
        "qa.reports.monthly",
        "qa.reports.quarterly",
        "qa.reports.half_yearly",
    }
    daily, weekly, monthly = (
        schedule[f"reports-{k}"]["schedule"] for k in ("daily", "weekly", "monthly")
    )
    assert (daily.hour, daily.minute) == ({1}, {0})
    assert weekly.day_of_week == {1}  # Monday
    assert monthly.day_of_month == {1}
    quarterly, half = (schedule[f"reports-{k}"]["schedule"] for k in ("quarterly", "half_yearly"))
    assert quarterly.month_of_year == {1, 4, 7, 10} and quarterly.day_of_month == {1}
    assert half.month_of_year == {1, 7}
    assert all(e["options"]["queue"] == "cpu" for e in schedule.values())
    app = Celery("t", set_as_current=False)
    register_report_tasks(app)
    assert set(TASK_NAMES.values()) <= set(app.tasks)
    assert task_routes()["qa.reports.monthly"] == {"queue": "cpu"}


def test_diff_names_rows_by_key():
    old = {
        "centre": {"mean_score": 80.0},
        "teams": [{"name": "A", "appeals": 0}],
        "inputs": {"x": 1},
    }
    new = {
        "centre": {"mean_score": 82.5},
        "teams": [{"name": "A", "appeals": 1}, {"name": "B", "appeals": 0}],
        "inputs": {"x": 2},
    }
    assert diff_payloads(old, new) == [
        {"path": "centre.mean_score", "old": 80.0, "new": 82.5},
        {"path": "teams[A].appeals", "old": 0, "new": 1},
        {"path": "teams[B].appeals", "old": None, "new": 0},
        {"path": "teams[B].name", "old": None, "new": "B"},
    ]


class _User:
    def __init__(self, role, agent_code=None):
        self.role, self.agent_code = role, agent_code


def test_visibility_rules():
    snap = {
        "published": False,
        "inputs": {},
        "payload": {
            "centre": {"mean_score": 90},
            "teams": [{"name": "A"}],
            "agents": [{"name": "1001"}, {"name": "1002"}],
        },
    }
    assert visible_report(_User("supervisor"), snap) == snap
    assert visible_report(_User("inspector"), snap) is None
    assert visible_report(_User("agent", "1001"), snap) is None
    published = snap | {"published": True}
    assert visible_report(_User("inspector"), published)["payload"]["teams"] == [{"name": "A"}]
    mine = visible_report(_User("agent", "1001"), published)
    assert mine["payload"]["agents"] == [{"name": "1001"}] and "teams" not in mine["payload"]
    assert "inputs" not in mine
    assert visible_report(_User("agent", None), published)["payload"]["agents"] == []
    assert visible_report(_User("stranger"), published) is None
