"""The supervisor's dashboard (主管总览) and the inspector's home (质检员首页).

A small hand-built centre on a fixed clock (Wednesday 2026-03-18, 12:00 Shanghai): agents 1000
and 1002 in team A, 1001 and 1003 in team B. The numbers the page shows are counted here by
hand, for the whole centre (``sup1``: no team, no scope) and for ``sup2`` (scope: team A).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from qa_platform.clock import FixedClock
from qa_platform.domain.transcript import Role, Severity
from qa_platform.queries.dashboard import supervisor_dashboard
from qa_platform.services import users
from qa_platform.services.auth import SessionUser, load_user
from scoring import services as svc
from scoring.plan import PlanFilters, SamplingPlan
from scoring.reports.rollup import rebuild_rollups
from tests.factories import FULL, add_call, flag, make_people, set_flags
from tests.web.conftest import as_user

NOW = datetime(2026, 3, 18, 4, 0, tzinfo=UTC)  # Wednesday 12:00 in Shanghai
TODAY = NOW - timedelta(hours=2)
EARLIER_THIS_MONTH = datetime(2026, 3, 5, 2, 0, tzinfo=UTC)
LAST_MONTH = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)
SILENCE = flag("long_silence", Severity.WARNING, Role.UNKNOWN)
ABUSE = flag("abuse_agent", Severity.CRITICAL, Role.AGENT)


def _calls(platform, people, agent: int, at: datetime, n: int, **fields) -> list[int]:
    code = str(1000 + people.agents.index(agent))  # make_people's agent codes
    team = people.teams[agent]
    return [
        add_call(platform, agent, team, started_at=at, agent_code=code, **fields) for _ in range(n)
    ]


def _evaluation(platform, people, agent: int, started: datetime, inspector: int) -> int:
    """A call of ``agent`` sampled alone and assigned to ``inspector`` at ``started``."""
    (call,) = _calls(platform, people, agent, started, 1)
    day = started.date()
    only = PlanFilters(period_start=day, period_end=day, agent_ids=(agent,))
    plan = SamplingPlan(f"call-{call}", size=1, filters=only)
    run = svc.run_sampling(platform.uow(), plan, seed=1, at=started)
    svc.assign_run(
        platform.uow(),
        run["run_id"],
        actor="sup1",
        inspector_ids=[inspector],
        exclude_own_team=False,
        at=started,
    )
    (ev,) = [e for e in svc.list_evaluations(platform.uow()) if e["call_id"] == call]
    return int(ev["evaluation_id"])


def _submit(platform, eid: int, inspector: int, at: datetime) -> None:
    u = platform.uow
    svc.start_evaluation(u(), eid, inspector, at=at)
    svc.save_scores(u(), eid, inspector, FULL, at=at)
    svc.submit_evaluation(u(), eid, inspector, at=at)


@pytest.fixture
def centre(platform):
    """The hand-built centre; returns (people, published evaluation id, submitted one)."""
    platform.clock = FixedClock(NOW)
    people = make_people(platform, inspectors=2, agents=4, password="pw-" + "secret1")
    a0, a1 = people.agents[0], people.agents[1]  # team A, team B
    ins = people.inspectors[0]
    today_a = _calls(platform, people, a0, TODAY, 3)
    today_b = _calls(platform, people, a1, TODAY, 1) + _calls(
        platform, people, a1, TODAY, 1, status="queued"
    )
    earlier_a = _calls(platform, people, a0, EARLIER_THIS_MONTH, 2)
    last_month_b = _calls(platform, people, a1, LAST_MONTH, 4)
    set_flags(
        platform,
        {
            today_a[0]: [SILENCE],
            today_b[0]: [ABUSE],
            earlier_a[0]: [ABUSE, SILENCE],
            last_month_b[0]: [SILENCE],
            last_month_b[1]: [SILENCE],
        },
    )
    # team A: published on Tuesday, appealed this morning (an appeal waiting, not overdue)
    published = _evaluation(platform, people, a0, datetime(2026, 3, 10, 2, tzinfo=UTC), ins)
    _submit(platform, published, ins, datetime(2026, 3, 16, 2, tzinfo=UTC))
    svc.approve_evaluation(platform.uow(), published, "sup1", at=NOW - timedelta(days=1))
    svc.publish_evaluation(platform.uow(), published, "sup1", at=NOW - timedelta(days=1))
    svc.file_appeal(
        platform.uow(),
        published,
        a0,
        "不认可",
        [next(iter(FULL))],
        at=NOW - timedelta(hours=1),
    )
    # team B: submitted last Friday, still not reviewed on Wednesday (overdue after 2 days)
    submitted = _evaluation(platform, people, a1, datetime(2026, 3, 11, 2, tzinfo=UTC), ins)
    _submit(platform, submitted, ins, datetime(2026, 3, 13, 2, tzinfo=UTC))
    users.set_scope(platform, "sup2", ["A"], actor="test")
    return people, published, submitted


def _user(platform, username: str) -> SessionUser:
    people = {u["username"]: u["id"] for u in users.list_users(platform)}
    found = load_user(platform, people[username])
    assert found is not None
    return found


def _numbers(d):
    return {
        "today": (d.today.volume.received, d.today.volume.analysed, d.today.volume.flagged),
        "month": (d.month.volume.received, d.month.volume.analysed, d.month.volume.flagged),
        "today_types": d.today.flag_types,
        "month_types": {t: n for t, n, _ in d.month.flag_types},
        "work": (d.work.reviews, d.work.reviews_overdue, d.work.appeals, d.work.appeals_overdue),
        "unassigned": d.work.appeals_unassigned,
        "progress": (d.progress.assigned, d.progress.done),
        "trend_received": sum(d.trend.received),
        "trend_flagged": sum(d.trend.flagged),
    }


def test_whole_centre_numbers_match_the_hand_count(platform, centre):
    d = supervisor_dashboard(platform, _user(platform, "sup1"))
    n = _numbers(d)
    assert d.whole_centre
    # today: 3 of team A (1 flagged) + 2 of team B (1 queued, 1 flagged)
    assert n["today"] == (5, 4, 2)
    assert n["today_types"] == [("abuse_agent", 1, 0.25), ("long_silence", 1, 0.25)]
    # this month: + 2 earlier calls of A (1 flagged twice) + the 2 evaluated calls
    assert n["month"] == (9, 8, 3)
    assert n["month_types"] == {"abuse_agent": 2, "long_silence": 2}
    assert n["work"] == (1, 1, 1, 0) and n["unassigned"] == 1
    assert n["progress"] == (2, 2)
    assert (n["trend_received"], n["trend_flagged"]) == (13, 5)  # + last month's 4 calls
    assert d.trend.days[-1] == "2026-03-18" and len(d.trend.days) == 56


def test_scoped_supervisor_counts_only_their_teams(platform, centre):
    n = _numbers(supervisor_dashboard(platform, _user(platform, "sup2")))
    assert n["today"] == (3, 3, 1)
    assert n["month"] == (6, 6, 2)
    assert n["work"] == (0, 0, 1, 0)  # team B's review is out of scope
    assert n["progress"] == (1, 1)
    assert (n["trend_received"], n["trend_flagged"]) == (6, 2)


def test_rollups_and_raw_calls_give_the_same_dashboard(platform, centre):
    sup = _user(platform, "sup1")
    raw = _numbers(supervisor_dashboard(platform, sup))
    rebuild_rollups(platform.uow(), None, now=NOW, actor="test")
    assert _numbers(supervisor_dashboard(platform, sup)) == raw


def test_rankings_carry_scores_and_drill_down_links(app, platform, centre):
    d = supervisor_dashboard(platform, _user(platform, "sup1"))
    team_a = next(r for r in d.teams if r.name == "A")
    assert team_a.evaluations == 1 and team_a.mean_score == 100.0 and team_a.red_lines == 0
    assert team_a.volume.received == 6  # last four weeks
    agent = next(r for r in d.agents if r.code == "1000")
    assert agent.calls_query == {
        "agent": "1000",
        "date_from": "2026-02-19",
        "date_to": "2026-03-19",
    }
    html = as_user(app, "sup1").get("/dashboard").get_data(as_text=True)
    assert "/calls?agent=1000&amp;date_from=2026-02-19&amp;date_to=2026-03-19" in html
    assert "/dashboard/evaluations?team=A" in html


def test_drill_down_to_evaluations_is_scoped(app, platform, centre):
    _people, published, submitted = centre
    sup1, sup2 = as_user(app, "sup1"), as_user(app, "sup2")
    body = sup1.get("/dashboard/evaluations?team=B").get_data(as_text=True)
    assert f"/evaluations/{submitted}" in body and f"/evaluations/{published}" not in body
    assert f"/evaluations/{submitted}" not in sup2.get("/dashboard/evaluations?team=B").text
    assert f"/evaluations/{published}" in sup2.get("/dashboard/evaluations?agent=1000").text
    assert sup1.get("/dashboard/evaluations?agent=" + "9" * 80).status_code == 400


def test_dashboard_page_passes_chart_data_as_json(app, platform, centre):
    client = as_user(app, "sup2")
    page = client.get("/dashboard")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "质检总览" in html
    found = re.search(r"data-chart='(.*?)'", html, re.S)
    data = json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    assert sum(data["received"]) == 6 and sorted(data["flag_types"]) == [
        "abuse_agent",
        "long_silence",
    ]
    assert "/static/vendor/chart.umd.min.js" in html and "<script>" not in html
    assert re.search(r'data-kpi="reviews">0<', html) and re.search(r'data-kpi="appeals">1<', html)


def test_supervisor_and_inspector_land_on_their_homes(app, platform, centre):
    for username, home in (("sup1", "/dashboard"), ("ins0", "/home")):
        client = as_user(app, username)
        assert client.get("/").headers["Location"].endswith(home)


def test_empty_centre_renders(app, platform):
    platform.clock = FixedClock(NOW)
    make_people(platform, inspectors=1, agents=0, password="pw-" + "secret1")
    client = as_user(app, "sup1")
    page = client.get("/dashboard")
    assert page.status_code == 200 and 'id="dash-empty"' in page.get_data(as_text=True)
    home = as_user(app, "ins0").get("/home")
    assert home.status_code == 200 and "尚未参加校准会" in home.get_data(as_text=True)


def test_inspector_home_shows_only_own_queue_and_progress(app, platform, centre):
    people, *_ = centre
    mine = _evaluation(
        platform, people, people.agents[2], NOW - timedelta(days=2), people.inspectors[0]
    )
    theirs = _evaluation(
        platform, people, people.agents[3], NOW - timedelta(days=2), people.inspectors[1]
    )
    html = as_user(app, "ins0").get("/home").get_data(as_text=True)
    assert f"/evaluations/{mine}" in html and f"/evaluations/{theirs}" not in html
    assert re.search(r'data-kpi="month">2<', html)  # submitted on the 13th and the 16th
    assert re.search(r'data-kpi="today">0<', html) and re.search(r'data-kpi="open">1<', html)
    other = as_user(app, "ins1").get("/home").get_data(as_text=True)
    assert f"/evaluations/{theirs}" in other and f"/evaluations/{mine}" not in other


def test_inspector_home_shows_calibration_agreement(app, platform, centre):
    people, *_ = centre
    ins0, ins1 = people.inspectors
    (call,) = _calls(platform, people, people.agents[0], date_time(2026, 3, 17), 1)
    session = svc.create_calibration(platform.uow(), "三月校准", [call], [ins0, ins1], actor="sup1")
    sid = int(session["session_id"])
    code = next(iter(FULL))
    for who in (ins0, ins1):
        svc.record_calibration_scores(platform.uow(), sid, who, call, {code: FULL[code]})
    html = as_user(app, "ins0").get("/home").get_data(as_text=True)
    assert "三月校准" in html and re.search(r'data-kpi="agreement">100\.0%<', html)


def date_time(year: int, month: int, day: int) -> datetime:
    return datetime.combine(date(year, month, day), datetime.min.time(), UTC) + timedelta(hours=2)
