"""Fuzz every form of the inspector, supervisor and agent pages as the right role: random
strings and numbers never cause a 500, and a rejected post changes nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models_scoring import (
    AppealRow,
    CalibrationSessionRow,
    EvaluationRow,
    SamplingPlanRow,
    SamplingRunRow,
    ScorecardRow,
)
from tests.web.conftest import as_user

NUMBERS = st.sampled_from(
    ["nan", "inf", "-inf", "-1", "0", "1", "1e308", "1e999", "9" * 30, str(2**63), "1.5", "²"]
)
VALUES = st.one_of(
    NUMBERS, st.text(max_size=30), st.integers(-(2**70), 2**70).map(str), st.just("9" * 5000)
)

FIELDS = {
    "insp": {
        "/evaluations/{eid}/save": ["row_version", "action", "score_answer_accuracy", "na_empathy"],
        "/evaluations/{eid}/comment": ["row_version", "at_s", "text", "item_code"],
    },
    "sup": {
        "/evaluations/{eid}/review": ["row_version", "action", "reason"],
        "/evaluations/{eid}/assign-reviewer": ["row_version", "reviewer_id"],
        "/evaluations/{eid}/decide": ["row_version", "decision", "note", "score_answer_accuracy"],
        "/plans": ["plan_yaml"],
        "/plans/run": ["name", "seed"],
        "/calibration": ["name", "call_ids", "inspector_ids"],
        "/config/scorecard": ["scorecard_yaml"],
        "/config/rules": ["rules_yaml"],
        "/reports/compute": ["kind", "date"],
    },
    "agent": {"/my/results/{eid}/appeal": ["row_version", "items", "reason"]},
}


def _state(platform) -> tuple[Any, ...]:
    with platform.uow() as uow:
        s = uow.session
        counts = tuple(
            s.scalar(select(func.count()).select_from(t))
            for t in (
                SamplingPlanRow,
                SamplingRunRow,
                ScorecardRow,
                CalibrationSessionRow,
                AppealRow,
            )
        )
        versions = s.scalar(select(func.coalesce(func.sum(EvaluationRow.row_version), 0)))
        return (*counts, versions)


def _fuzz(app, world, platform, username: str, data) -> None:
    browser = as_user(app, username)
    eid = world.evaluation_id
    routes = FIELDS[username]
    url = data.draw(st.sampled_from(sorted(routes)))
    names = routes[url]
    form = {
        name: data.draw(VALUES, label=name)
        for name in data.draw(st.lists(st.sampled_from(names), unique=True), label="fields")
    }
    before = _state(platform)
    r = browser.post(url.format(eid=eid), form, follow_redirects=True)
    assert r.status_code < 500, (url, form, r.get_data(as_text=True)[:300])
    rejected = r.status_code >= 400 or 'class="flash error"' in r.get_data(as_text=True)
    if rejected:
        assert _state(platform) == before, (url, form)


FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_inspector_forms(app, world, platform, data):
    _fuzz(app, world, platform, "insp", data)


@FUZZ
@given(data=st.data())
def test_supervisor_forms(app, world, platform, data):
    _fuzz(app, world, platform, "sup", data)


@FUZZ
@given(data=st.data())
def test_agent_forms(app, world, platform, data):
    _fuzz(app, world, platform, "agent", data)
