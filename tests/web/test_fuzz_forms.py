"""Fuzz every form, query string and API field of the pages as the right role (and the sign-in
form as nobody): random and hostile values (huge numbers, NaN, 5000 characters, NUL, odd
unicode, repeated fields) never cause a 500, and a rejected post changes nothing."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import AuditEvent, Call, Team, User
from storage.models_flags import RuleSetRow
from storage.models_reports import ReportSnapshot
from storage.models_scoring import (
    AppealRow,
    CalibrationSessionRow,
    EvaluationRow,
    SamplingPlanRow,
    SamplingRunRow,
    ScorecardRow,
)
from tests.web.conftest import Browser, as_user

NUMBERS = st.sampled_from(
    ["nan", "inf", "-inf", "-1", "0", "1", "1e308", "1e999", "9" * 30, str(2**63), "1.5", "²"]
)
HOSTILE = st.sampled_from(
    [
        "NaN",
        "-Infinity",
        "1e-400",
        str(2**64),
        "-" + "9" * 400,
        "0x10",
        "1_000",
        "١٢٣",  # Arabic-Indic digits
        "x" * 5000,
        "名" * 5000,
        "a\x00b",
        "\x00",
        "\ufffe\uffff",
        "\U0010ffff",
        "\u202eevil",
        '=HYPERLINK("http://x","y")',
        "<script>alert(1)</script>",
        "../../etc/passwd",
        "",
        " ",
        "2026-13-45",
        "9999-12-31",
        "0001-01-01",
    ]
)
SCALARS = st.one_of(
    NUMBERS,
    HOSTILE,
    st.text(max_size=30),
    st.integers(-(2**70), 2**70).map(str),
    st.just("9" * 5000),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, min_size=2, max_size=3))  # a list: repeated field
IDS = st.one_of(st.sampled_from(["0", "1", str(2**31), str(2**63), str(2**64), "9" * 40]))

FIELDS = {
    "insp": {
        "/evaluations/{eid}/save": ["row_version", "action", "score_answer_accuracy", "na_empathy"],
        "/evaluations/{eid}/comment": ["row_version", "at_s", "text", "item_code"],
        "/evaluations/{eid}/draft": [
            "row_version",
            "action",
            "score_answer_accuracy",
            "na_empathy",
        ],
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
        "/evaluations/{eid}/review#back": ["row_version", "action", "back"],
        "/reports/{id}/publish": [],
        "/runs/{id}/assign": [],
    },
    "agent": {"/my/results/{eid}/appeal": ["row_version", "items", "reason"]},
    "admin": {
        "/admin/users": ["username", "role", "team", "agent_code", "password", "display_name"],
        "/admin/users/{insp2}": ["role", "team", "active"],
        "/admin/users/{id}": ["role", "team", "active"],
        "/admin/calls/hold": ["call_id", "hold", "reason"],
        "/admin/calls/retention-class": ["call_id", "klass"],
    },
}
QUERIES = {  # GET routes and their query-string fields, as a supervisor
    "/calls": [
        "agent",
        "team",
        "flag_type",
        "text",
        "date_from",
        "date_to",
        "score_min",
        "score_max",
    ],
    "/reports/": ["kind"],
    "/plans": ["draft"],
    "/calls/{call}/audio": ["download"],
    "/calls/{id}/audio": ["download"],
    "/lang/{text}": [],
    "/reports/{id}": [],
}
RANGES = st.one_of(
    st.none(),
    HOSTILE.map(lambda v: f"bytes={v}-"),
    st.sampled_from(
        ["bytes=0-", "bytes=-0", f"bytes=0-{2**64}", f"bytes={2**63}-", "bytes=1-0,5-9", "items=0-"]
    ),
    st.text(st.characters(blacklist_characters="\r\n"), max_size=40),  # a header has no newline
)


# Audit rows that record a refusal or a reading (the page a rejected post lands on), not a change.
NOT_A_CHANGE = (
    "access.denied",
    "auth.login_failed",
    "evaluation.stale_form",
    "transcript.view",
    "report.export",
    "call.audio_play",
    "call.audio_download",
)


def _state(platform) -> tuple[Any, ...]:
    """Row counts and versions of what a form can write; audit rows other than denials."""
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
                RuleSetRow,
                ReportSnapshot,
                User,
                Team,
                Call,
            )
        )
        versions = s.scalar(select(func.coalesce(func.sum(EvaluationRow.row_version), 0)))
        users = tuple(s.execute(select(User.role, User.team_id, User.active).order_by(User.id)))
        calls = tuple(s.execute(select(Call.legal_hold).order_by(Call.id)))
        audits = s.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action.not_in(NOT_A_CHANGE))
        )
        return (*counts, versions, users, calls, audits)


def _path(url: str, world, data) -> str:
    """Fill the route's ids: the world's own, or a drawn hostile one."""
    with_ids = {
        "eid": world.evaluation_id,
        "insp2": world.ids["insp2"],
        "call": world.call_id,
        "id": data.draw(IDS, label="id"),
        "text": data.draw(st.sampled_from(["zh", "en", "xx", "9" * 40, "%00", "名"])),
    }
    return url.split("#", 1)[0].format(**with_ids)


def _form(names: list[str], data) -> dict[str, Any]:
    if not names:
        return {}
    return {
        name: data.draw(VALUES, label=name)
        for name in data.draw(st.lists(st.sampled_from(names), unique=True), label="fields")
    }


def _fuzz(app, world, platform, username: str, data) -> None:
    browser = as_user(app, username)
    routes = FIELDS[username]
    url = data.draw(st.sampled_from(sorted(routes)))
    form = _form(routes[url] + (_score_fields(platform) if "eid" in url else []), data)
    before = _state(platform)
    r = browser.post(_path(url, world, data), form, follow_redirects=True)
    assert r.status_code < 500, (url, form, r.get_data(as_text=True)[:300])
    rejected = r.status_code >= 400 or 'class="flash error"' in r.get_data(as_text=True)
    if rejected:
        assert _state(platform) == before, (url, form)


def _score_fields(platform) -> list[str]:
    """Every score and N/A field of the active scorecard (评分表)."""
    with platform.uow() as uow:
        card = uow.session.scalars(select(ScorecardRow).order_by(ScorecardRow.id.desc())).first()
    codes = _item_codes(card.definition if card is not None else {})
    return [f"{prefix}_{code}" for code in codes for prefix in ("score", "na")]


def _item_codes(definition: Any) -> list[str]:
    """Item codes anywhere in a scorecard definition (every dict with a ``code``)."""
    if isinstance(definition, dict):
        own = [str(definition["code"])] if "code" in definition and "points" in definition else []
        return own + [c for v in definition.values() for c in _item_codes(v)]
    if isinstance(definition, list):
        return [c for v in definition for c in _item_codes(v)]
    return []


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


@FUZZ
@given(data=st.data())
def test_admin_forms(app, world, platform, data):
    _fuzz(app, world, platform, "admin", data)


@FUZZ
@given(data=st.data())
def test_sign_in_form_and_next(app, world, platform, data):
    browser = Browser(app.test_client())
    browser.get("/login")
    form = _form(["username", "password"], data)
    nxt = data.draw(st.one_of(HOSTILE, st.just("//evil.example/x"), st.text(max_size=30)))
    before = _state(platform)
    r = browser.post("/login", form, query_string={"next": nxt})
    assert r.status_code < 500, (form, nxt)
    if r.status_code == 303:
        assert not r.headers["Location"].startswith(("//", "http:", "https:")), nxt
    assert _state(platform)[:-1] == before[:-1]  # a sign-in attempt writes only its audit


@FUZZ
@given(data=st.data())
def test_query_strings_and_range_headers(app, world, platform, data):
    browser = as_user(app, "sup")
    url = data.draw(st.sampled_from(sorted(QUERIES)))
    args = _form(QUERIES[url], data)
    rng = data.draw(RANGES, label="range")
    headers = {"Range": rng} if rng is not None and "audio" in url else {}
    before = _state(platform)
    r = browser.get(_path(url, world, data), query_string=args, headers=headers)
    assert r.status_code < 500, (url, args, rng, r.get_data(as_text=True)[:300])
    after = _state(platform)
    assert after[:-1] == before[:-1], (url, args)  # reads write nothing but audit rows


@FUZZ
@given(data=st.data())
def test_upload_metadata_fields(app, world, platform, data):
    from qa_platform.domain.calls import METADATA_FIELDS

    browser = as_user(app, "sup")
    form = _form(list(METADATA_FIELDS), data)
    audio = data.draw(st.sampled_from([b"", b"RIFF", b"\x00" * 64]), label="file")
    before = _state(platform)
    r = browser.post(
        "/api/v1/calls",
        {**form, "file": (io.BytesIO(audio), "x.wav")},
        headers={"X-CSRF-Token": browser.csrf()},
    )
    assert r.status_code < 500, (form, r.get_data(as_text=True)[:300])
    if r.status_code >= 400:
        assert _state(platform)[:-1] == before[:-1], form
