"""A.2 培训质量 in the report snapshot: of the random-stream results published for calls an
agent made within 30 days of their hire date, the share that passed; in the CSV too."""

from __future__ import annotations

from datetime import UTC, date, datetime

from qa_platform.services import people
from qa_platform.services.context import Platform
from scoring import reports
from scoring.reports.export import to_csv
from tests.factories import FULL, evaluation_on_new_call, make_people, publish_scored
from tests.integration.test_coaching import below_pass


def _published(platform: Platform, agent: int, inspector: int, day: date, scores: dict) -> None:
    ev = evaluation_on_new_call(platform, agent, inspector, "sup1", day)
    at = datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)
    publish_scored(platform, ev, inspector, "sup1", scores, at=at)


def test_only_the_first_30_days_of_agents_with_a_hire_date_count(platform: Platform) -> None:
    p = make_people(platform, inspectors=3, agents=2)
    newcomer, veteran, inspector = p.agents[0], p.agents[1], p.inspectors[2]
    people.set_hire_date(platform, "agent0", "2026-02-10", "admin")  # day 1 = 2026-02-10
    _published(platform, newcomer, inspector, date(2026, 3, 2), below_pass())  # day 21: counts
    _published(platform, newcomer, inspector, date(2026, 3, 11), FULL)  # day 30: counts
    _published(platform, newcomer, inspector, date(2026, 3, 12), below_pass())  # day 31: not
    _published(platform, veteran, inspector, date(2026, 3, 3), FULL)  # no hire date: not
    snap = reports.compute_report(
        platform.uow(), "monthly", date(2026, 3, 1), now=datetime(2026, 4, 20, tzinfo=UTC)
    )
    training = snap["payload"]["training"]
    assert training == {
        "training_new_agents": 1,
        "training_evaluations": 2,
        "training_passed": 1,
        "training_quality_rate": 0.5,
    }
    assert snap["payload"]["centre"]["training_quality_rate"] == 0.5
    csv = to_csv(snap["payload"], snap).decode("utf-8-sig")
    assert "培训质量（A.2）" in csv and "新员工30天合格录音量" in csv


def test_without_new_agents_the_rate_is_empty_not_zero(platform: Platform) -> None:
    p = make_people(platform, inspectors=3, agents=2)
    _published(platform, p.agents[0], p.inspectors[2], date(2026, 3, 2), FULL)
    snap = reports.compute_report(platform.uow(), "monthly", date(2026, 3, 1))
    assert snap["payload"]["training"]["training_evaluations"] == 0
    assert snap["payload"]["training"]["training_quality_rate"] is None
