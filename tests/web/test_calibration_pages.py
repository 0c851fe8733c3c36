"""Calibration in the browser (校准, issue 15 item 7): inspectors score, the supervisor reads
kappa/ICC and deviations; auto-QA's machine–human agreement on the calibration page (issue 13)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from qa_platform.domain.transcript import Role, Severity
from qa_platform.services.context import Platform
from scoring import services as scoring
from scoring.calibration import fleiss_kappa_from_ratings, icc_2_1
from scoring.plan import PlanFilters, SamplingPlan
from scoring.services import autoqa
from scoring.services.autoqa_agreement import machine_human_agreement
from scoring.services.calibration import session_scores
from storage.models_scoring import CalibrationSessionRow
from tests.factories import (
    FULL,
    StoryWorld,
    add_call,
    add_person,
    analyse_call,
    flag,
    make_people,
    publish_scored,
    sample_and_assign,
)
from tests.web.conftest import Browser, as_user


def form(**changes: float) -> dict[str, str]:
    """The scoring form with full marks, red lines unchecked, ``changes`` applied."""
    points = {c: p for c, p in FULL.items() if p is not False} | changes
    return {f"score_{code}": f"{value:g}" for code, value in points.items()}


@pytest.fixture
def session_id(platform: Platform, world: StoryWorld) -> int:
    calls = [world.call_id, world.other_call_id]
    out = scoring.create_calibration(
        platform.uow(), "十二月校准", calls, [world.ids["insp"], world.ids["insp2"]], actor="sup"
    )
    return int(out["session_id"])


def url(session_id: int, call_id: int) -> str:
    return f"/calibration/{session_id}/calls/{call_id}"


def cell(html: str, row_id: str, name: str) -> str:
    """The text of the ``data-v=name`` cell of the table row ``row_id``."""
    row = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, f"no row {row_id}"
    value = re.search(rf'data-v="{name}">([^<]*)<', row.group(1))
    assert value, f"no {name} in row {row_id}"
    return value.group(1).strip()


def test_an_inspector_scores_in_the_browser_and_the_scores_are_stored(
    app: Flask, platform: Platform, world: StoryWorld, session_id: int
) -> None:
    insp = as_user(app, "insp")
    listed = insp.get("/my/calibration").get_data(as_text=True)
    assert "十二月校准" in listed and 'data-status="todo"' in listed
    page = insp.get(url(session_id, world.call_id))
    assert page.status_code == 200 and 'id="audio"' in page.get_data(as_text=True)  # the player
    r = insp.post(url(session_id, world.call_id), form(identity_check=5))
    assert r.status_code == 303 and r.headers["Location"].endswith(
        url(session_id, world.other_call_id)
    )  # on to the next call of the session
    with platform.uow() as uow:
        stored, _ = session_scores(uow.session, session_id)
    mine = {s.item_code: s.value for s in stored if s.call_id == world.call_id}
    assert mine["identity_check"] == 5.0 and mine["answer_accuracy"] == 20.0
    assert mine["abuse_customer"] == 0.0 and len(mine) == len(FULL)
    again = insp.get(url(session_id, world.call_id)).get_data(as_text=True)
    assert re.search(r'name="score_identity_check"[^>]*value="5.0"', again)  # shown back
    r = insp.post(url(session_id, world.other_call_id), {**form(), "na_empathy": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/my/calibration")
    assert 'data-status="done"' in insp.get("/my/calibration").get_data(as_text=True)
    with platform.uow() as uow:
        stored, _ = session_scores(uow.session, session_id)
    other = {s.item_code: s.value for s in stored if s.call_id == world.other_call_id}
    assert other["empathy"] is None  # N/A


def test_an_inspector_outside_the_session_gets_404(
    app: Flask, platform: Platform, world: StoryWorld, session_id: int
) -> None:
    add_person(platform, "insp3", "inspector", "质检组")
    outsider = as_user(app, "insp3")
    assert outsider.get(url(session_id, world.call_id)).status_code == 404
    assert outsider.post(url(session_id, world.call_id), form()).status_code == 404
    assert "十二月校准" not in outsider.get("/my/calibration").get_data(as_text=True)
    with platform.uow() as uow:
        assert session_scores(uow.session, session_id) == ([], {})


def test_a_call_outside_the_session_gets_404(
    app: Flask, platform: Platform, world: StoryWorld, session_id: int
) -> None:
    stray = add_call(platform, world.ids["agent"], None)
    insp = as_user(app, "insp")
    assert insp.get(url(session_id, stray)).status_code == 404
    assert insp.post(url(session_id, stray), form()).status_code == 404


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"score_identity_check": "11"}, ["identity_check", "11", "0 至 10"]),
        ({"score_identity_check": "十"}, ["score_identity_check", "十"]),
        ({"score_identity_check": "nan"}, ["score_identity_check"]),
        ({"score_identity_check": ""}, ["尚未评分", "identity_check"]),
    ],
)
def test_bad_input_names_the_item_in_chinese_and_stores_nothing(
    app: Flask,
    platform: Platform,
    world: StoryWorld,
    session_id: int,
    fields: dict[str, str],
    words: list[str],
) -> None:
    insp = as_user(app, "insp")
    r = insp.post(url(session_id, world.call_id), form() | fields)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    flashed = re.search(r'<div class="flash error" role="status">([^<]*)</div>', html)
    assert flashed and all(w in flashed.group(1) for w in words), flashed
    typed = fields["score_identity_check"]
    assert 'name="score_identity_check" id="score-identity_check"' in html
    assert re.search(r'name="score_answer_accuracy"[^>]*value="20"', html)  # kept as typed
    assert re.search(rf'name="score_identity_check"[^>]*value="{typed}"', html)
    with platform.uow() as uow:
        assert session_scores(uow.session, session_id) == ([], {})


def test_after_the_session_is_closed_scores_are_refused_with_409(
    app: Flask, platform: Platform, world: StoryWorld, session_id: int
) -> None:
    sup = as_user(app, "sup")
    assert sup.post(f"/calibration/{session_id}/close").status_code == 303
    assert "已结束" in sup.get(f"/calibration/{session_id}").get_data(as_text=True)
    insp = as_user(app, "insp")
    r = insp.post(url(session_id, world.call_id), form())
    assert r.status_code == 409 and f"校准会 {session_id} 已结束" in r.get_data(as_text=True)
    assert 'id="calib-save"' not in insp.get(url(session_id, world.call_id)).get_data(as_text=True)
    with platform.uow() as uow:
        assert session_scores(uow.session, session_id) == ([], {})


def test_the_supervisor_sees_kappa_icc_and_deviation_from_the_same_scores(
    app: Flask, world: StoryWorld, session_id: int
) -> None:
    one, two = world.call_id, world.other_call_id
    entered = {  # inspector → call → changes from full marks
        "insp": {one: {}, two: {"identity_check": 5, "answer_accuracy": 20}},
        "insp2": {one: {"answer_accuracy": 15}, two: {"identity_check": 0, "answer_accuracy": 10}},
    }
    for who, calls in entered.items():
        b = as_user(app, who)
        for call_id, changes in calls.items():
            assert b.post(url(session_id, call_id), form(**changes)).status_code == 303
    html = as_user(app, "sup").get(f"/calibration/{session_id}").get_data(as_text=True)
    identity = [[10.0, 10.0], [5.0, 0.0]]  # calls × (insp, insp2)
    accuracy = [[20.0, 15.0], [20.0, 10.0]]
    assert (
        cell(html, "item-identity_check", "fleiss") == f"{fleiss_kappa_from_ratings(identity):.3f}"
    )
    assert cell(html, "item-identity_check", "icc") == f"{icc_2_1(identity):.3f}"
    assert (
        cell(html, "item-answer_accuracy", "fleiss") == f"{fleiss_kappa_from_ratings(accuracy):.3f}"
    )
    full = {c: float(p) for c, p in FULL.items()}  # red lines: 0.0 (not violated)
    same = [[p, p] for c, p in full.items() if c not in ("identity_check", "answer_accuracy")]
    cells = same * 2 + identity + accuracy  # every (call, item) cell, both calls
    assert cell(html, "item-overall", "fleiss") == f"{fleiss_kappa_from_ratings(cells):.3f}"
    # each call's total per inspector: full marks minus what they took off
    base = sum(full.values())
    totals = [[base, base - 5], [base - 5, base - 20]]
    assert cell(html, "item-overall", "icc") == f"{icc_2_1(totals):.3f}"
    # deviation from the inspectors' mean (no reference): insp is 2.5 above on call one's
    # answer_accuracy, 2.5 on call two's identity_check, 5 on its answer_accuracy; 40 scores
    insp, insp2 = world.ids["insp"], world.ids["insp2"]
    assert cell(html, f"dev-{insp}", "mean") == f"{(2.5 + 2.5 + 5) / 40:+.2f}"
    assert cell(html, f"dev-{insp2}", "mean") == f"{-(2.5 + 2.5 + 5) / 40:+.2f}"
    assert "偏差相对于质检员评分的平均值" in html


def test_too_few_scores_carry_a_note(app: Flask, world: StoryWorld, session_id: int) -> None:
    sup = as_user(app, "sup")
    assert 'id="calib-note"' in sup.get(f"/calibration/{session_id}").get_data(as_text=True)
    as_user(app, "insp").post(url(session_id, world.call_id), form())
    html = sup.get(f"/calibration/{session_id}").get_data(as_text=True)
    assert 'id="calib-few"' in html and "评分不足" in html
    assert cell(html, "item-identity_check", "fleiss") == "—"  # one rater: undefined
    for call_id in (world.call_id, world.other_call_id):
        as_user(app, "insp2").post(url(session_id, call_id), form())
    as_user(app, "insp").post(url(session_id, world.other_call_id), form(identity_check=5))
    html = sup.get(f"/calibration/{session_id}").get_data(as_text=True)
    assert 'id="calib-few"' not in html and 'id="calib-undefined"' in html  # unanimous items


# --------------------------------------------------------------------------- agreement
DEC = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
NO_CLOSING = flag("missing_closing", Severity.WARNING, Role.AGENT, 14.0, 19.5, "没有结束语")


@pytest.fixture
def autoqa_world(platform: Platform) -> Platform:
    """Four December calls: the machine fails closing on the first two, the people on the
    first and the fourth (as tests/integration/test_autoqa_agreement.py)."""
    people = make_people(platform, inspectors=3, agents=2)
    machine_flags: list[list[Any]] = [[NO_CLOSING], [NO_CLOSING], [], []]
    human_closing = [0.0, 4.0, 4.0, 0.0]
    ids = []
    for i in range(4):
        agent = people.agents[i % 2]
        at = DEC + timedelta(days=i)
        cid = add_call(platform, agent, people.teams[agent], status="queued", started_at=at)
        analyse_call(platform, cid, machine_flags[i])
        autoqa.evaluate_call(platform, cid)
        ids.append(cid)
    plan = SamplingPlan("all", size=4, filters=PlanFilters())
    inspector = people.inspectors[2]
    for ev in sample_and_assign(platform, plan, inspector_ids=[inspector]):
        scores = dict(FULL, closing_phrase=human_closing[ids.index(ev["call_id"])])
        publish_scored(platform, ev["evaluation_id"], inspector, people.supervisor, scores, at=DEC)
    return platform


def test_the_agreement_table_shows_autoqa_agreement_figures(
    app: Flask, autoqa_world: Platform
) -> None:
    sup = Browser(app.test_client())
    sup.login("sup1", "x")
    html = sup.get("/calibration?period=2026-12").get_data(as_text=True)
    report = machine_human_agreement(autoqa_world, "2026-12").to_dict()
    assert report["items"], "the fixture pairs machine and human decisions"
    for a in (*report["items"], report["overall"]):
        row, kappa, ci = f"agree-{a['code']}", a["kappa"], a["kappa_ci"]
        assert cell(html, row, "percent") == f"{a['percent_agreement'] * 100:.1f}%"
        assert cell(html, row, "kappa") == ("—" if kappa is None else f"{kappa:.3f}")
        assert cell(html, row, "ci") == ("—" if ci is None else f"{ci[0]:.3f} – {ci[1]:.3f}")
    closing = re.search(r'<tr id="agree-closing_phrase" class="weak">(.*?)</tr>', html, re.S)
    assert closing and 'data-weak="1"' in closing.group(1)  # κ 0 < threshold 0.6
    counts = re.findall(r'<td class="num">(\d+)</td>', closing.group(1))
    assert counts == ["4", "1", "1", "1", "1"]  # n, then the confusion counts
    greeting = re.search(r'<tr id="agree-greeting_agent_id" class="">(.*?)</tr>', html, re.S)
    assert greeting and "data-weak" not in greeting.group(1)  # κ undefined: not marked


def test_a_bad_period_is_refused_with_a_message(app: Flask, autoqa_world: Platform) -> None:
    sup = Browser(app.test_client())
    sup.login("sup1", "x")
    r = sup.get("/calibration?period=2026-13")
    assert r.status_code == 400 and "2026-13" in r.get_data(as_text=True)


HOSTILE = st.sampled_from(
    ["nan", "inf", "-1", "1e999", "9" * 400, "²", "١٠", "x" * 5000, "a\x00b", "", " ", "<b>"]
)
FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_hostile_scores_never_500_and_a_refusal_stores_nothing(
    app: Flask, platform: Platform, world: StoryWorld, session_id: int, data: st.DataObject
) -> None:
    fields = [f"{p}_{code}" for code in FULL for p in ("score", "na", "violated")]
    chosen = data.draw(st.lists(st.sampled_from(fields), unique=True, max_size=6))
    body = form() | {name: data.draw(HOSTILE, label=name) for name in chosen}
    with platform.uow() as uow:
        before = session_scores(uow.session, session_id)
    r = as_user(app, "insp").post(url(session_id, world.call_id), body)
    assert r.status_code in (303, 400), r.status_code
    if r.status_code == 400:
        with platform.uow() as uow:
            assert session_scores(uow.session, session_id) == before


@FUZZ
@given(period=st.one_of(HOSTILE, st.text(max_size=12)))
def test_hostile_periods_are_refused_or_shown(app: Flask, world: StoryWorld, period: str) -> None:
    r = as_user(app, "sup").get("/calibration", query_string={"period": period})
    assert r.status_code in (200, 400)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_calibration_text_is_translated(
    app: Flask, world: StoryWorld, session_id: int, lang: str
) -> None:
    insp, sup = as_user(app, "insp"), as_user(app, "sup")
    for b in (insp, sup):
        b.get(f"/lang/{lang}")
    insp.post(url(session_id, world.call_id), form())
    pages = [
        insp.get("/my/calibration"),
        insp.get(url(session_id, world.call_id)),
        sup.get(f"/calibration/{session_id}"),
        sup.get("/calibration?period=2026-12"),
    ]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert not re.findall(r"[>\s\"]calibration\.[a-z_]+", html), re.findall(
            r"[>\s\"]calibration\.[a-z_]+", html
        )
    assert ("校准" if lang == "zh" else "Calibration") in html


def test_the_supervisor_enters_the_reference_in_the_browser(
    app: Flask, platform: Platform, world: StoryWorld
) -> None:
    sup = as_user(app, "sup")
    body = {
        "name": "有标准答案",
        "call_ids": f"{world.call_id}",
        "inspector_ids": [world.ids["insp"], world.ids["insp2"]],
        "reference_by": world.ids["sup"],
    }
    assert sup.post("/calibration", body).status_code == 303
    with platform.uow() as uow:
        sid = max(r.id for r in uow.session.scalars(select(CalibrationSessionRow)))
        assert uow.session.get(CalibrationSessionRow, sid).reference_by == world.ids["sup"]
    show = sup.get(f"/calibration/{sid}").get_data(as_text=True)
    assert 'id="reference-links"' in show and url(sid, world.call_id) in show
    r = sup.post(url(sid, world.call_id), form(identity_check=0))
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/calibration/{sid}")
    for who, identity in (("insp", 10), ("insp2", 0)):
        as_user(app, who).post(url(sid, world.call_id), form(identity_check=identity))
    html = sup.get(f"/calibration/{sid}").get_data(as_text=True)
    assert "偏差相对于主管给出的标准答案" in html
    assert (
        cell(html, f"dev-{world.ids['insp']}", "mean") == f"{10 / 20:+.2f}"
    )  # 10 above on 1 of 20
    assert cell(html, f"dev-{world.ids['insp2']}", "mean") == "+0.00"
    # a supervisor who may read the session but is not its reference cannot score it
    assert as_user(app, "sup2").get(url(sid, world.call_id)).status_code == 404
    assert as_user(app, "sup2").post(url(sid, world.call_id), form()).status_code == 404
