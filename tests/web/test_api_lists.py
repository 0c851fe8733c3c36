"""The API's lists: filters, cursor pages that read every row exactly once, the pages' scope
(an agent sees own calls, an other-team supervisor none of team 一组), 401 for anonymous
callers, and a 400 naming the parameter for every bad value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from qa_platform.services.auth import create_token
from scoring import reports
from scoring import services as scoring
from tests.factories import (
    StoryWorld,
    add_call,
    evaluation_on_new_call,
    flag,
    publish_scored,
    set_flags,
    team_of,
)
from tests.web.conftest import as_user
from web.api_params import encode_cursor

DAY = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class Api:
    """A client that sends a user's API token (read scope) on every request."""

    def __init__(self, app: Flask, platform: Any, username: str) -> None:
        token = create_token(platform, username, f"lists-{username}", scopes=("read",))
        self.client = app.test_client()
        self.client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def get(self, url: str, **params: Any) -> Any:
        return self.client.get(url, query_string=params)

    def ok(self, url: str, **params: Any) -> dict[str, Any]:
        resp = self.get(url, **params)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return dict(resp.get_json())

    def walk(self, url: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every page from the first until ``next_cursor`` is null."""
        rows: list[dict[str, Any]] = []
        cursor = None
        for _ in range(100):
            body = self.ok(url, **params, **({"cursor": cursor} if cursor else {}))
            assert len(body[key]) <= int(params.get("limit", 50))
            rows += body[key]
            cursor = body["next_cursor"]
            if cursor is None:
                return rows
        raise AssertionError("the pages never ended")


@pytest.fixture
def calls(platform: Any, world: StoryWorld) -> dict[str, list[int]]:
    """Eleven more calls of A001 (一组), five of them at the very same moment (ties on
    started_at), one failed, two with a misleading-promise flag; three of A002 (二组)."""
    ids = world.ids
    team1 = team_of(platform, [ids["agent"]])[ids["agent"]]
    team2 = team_of(platform, [ids["agent2"]])[ids["agent2"]]
    a1 = [
        add_call(
            platform,
            ids["agent"],
            team1,
            agent_code="A001",
            started_at=DAY if i < 5 else DAY + timedelta(days=i),
            status="failed" if i == 7 else "analysed",
        )
        for i in range(11)
    ]
    a2 = [
        add_call(
            platform, ids["agent2"], team2, agent_code="A002", started_at=DAY + timedelta(hours=i)
        )
        for i in range(3)
    ]
    set_flags(platform, {a1[1]: [flag("misleading_promise")], a1[6]: [flag("misleading_promise")]})
    return {"A001": [world.call_id, *a1], "A002": [world.other_call_id, *a2]}


def test_the_pages_of_calls_read_every_row_once_newest_first(app, platform, world, calls):
    api = Api(app, platform, "sup")
    rows = api.walk("/api/v1/calls", "calls", limit=3)
    ids = [r["id"] for r in rows]
    assert sorted(ids) == sorted(calls["A001"] + calls["A002"])
    assert len(ids) == len(set(ids))
    keys = [(r["started_at"], r["id"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    one_page = api.ok("/api/v1/calls", limit=200)
    assert [r["id"] for r in one_page["calls"]] == ids and one_page["next_cursor"] is None


def test_call_filters(app, platform, world, calls):
    api = Api(app, platform, "sup")

    def ids(**params: Any) -> set[int]:
        return {r["id"] for r in api.walk("/api/v1/calls", "calls", limit=4, **params)}

    assert ids(agent="A002") == set(calls["A002"])
    assert ids(team="一组") == set(calls["A001"])
    assert ids(status="failed") == {calls["A001"][8]}
    assert ids(flag="misleading_promise") == {calls["A001"][2], calls["A001"][7]}
    # 2026-02-10 in Shanghai: the five tied calls and A002's three
    assert ids(**{"from": "2026-02-10", "to": "2026-02-10"}) == set(calls["A001"][1:6]) | set(
        calls["A002"][1:]
    )
    assert ids(text="%") == ids(text="\\") == ids(text="_") == set()  # literal, not wildcards
    later = ids(**{"from": "2026-02-15T10:00:00+08:00", "agent": "A001"})
    assert later == {world.call_id, *calls["A001"][6:]}


def test_score_range_filter(app, platform, world, calls):
    ids = world.ids
    eid = evaluation_on_new_call(platform, ids["agent"], ids["insp"], ids["sup"], date(2026, 1, 20))
    publish_scored(platform, eid, ids["insp"], ids["sup"])
    total = scoring.show_evaluation(platform.uow(), eid)["total"]
    scored = scoring.show_evaluation(platform.uow(), eid)["call_id"]
    api = Api(app, platform, "sup")
    got = api.ok("/api/v1/calls", score_min=str(total - 1), score_max="100")["calls"]
    assert [(r["id"], r["score"]) for r in got] == [(scored, total)]
    assert api.ok("/api/v1/calls", score_max=str(total - 1))["calls"] == []


def test_scope_like_the_calls_page(app, platform, world, calls):
    agent = Api(app, platform, "agent")
    mine = {r["id"] for r in agent.walk("/api/v1/calls", "calls", limit=5)}
    assert mine == set(calls["A001"])
    assert agent.ok("/api/v1/calls", agent="A002")["calls"] == []
    other = Api(app, platform, "teamsup")  # supervisor of 二组
    assert other.ok("/api/v1/calls", team="一组")["calls"] == []
    assert {r["id"] for r in other.walk("/api/v1/calls", "calls")} == set(calls["A002"])


@pytest.mark.parametrize(
    "url", ["/api/v1/calls", "/api/v1/evaluations", "/api/v1/appeals", "/api/v1/reports"]
)
def test_anonymous_callers_get_401(app, world, url):
    resp = app.test_client().get(url)
    assert resp.status_code == 401 and "error" in resp.get_json()


BAD = [
    ("/api/v1/calls", {"limit": "0"}, "limit"),
    ("/api/v1/calls", {"limit": "201"}, "limit"),
    ("/api/v1/calls", {"limit": "ten"}, "limit"),
    ("/api/v1/calls", {"limit": ["5", "6"]}, "limit"),
    ("/api/v1/calls", {"score_min": "nan"}, "score_min"),
    ("/api/v1/calls", {"score_max": "inf"}, "score_max"),
    ("/api/v1/calls", {"score_min": "1e999"}, "score_min"),
    ("/api/v1/calls", {"score_min": "101"}, "score_min"),
    ("/api/v1/calls", {"score_min": "-1"}, "score_min"),
    ("/api/v1/calls", {"score_min": "80", "score_max": "60"}, "score_min"),
    ("/api/v1/calls", {"from": "2026-13-01"}, "from"),
    ("/api/v1/calls", {"to": "yesterday"}, "to"),
    ("/api/v1/calls", {"to": "9999-12-31"}, "to"),
    ("/api/v1/calls", {"from": "1900-01-01"}, "from"),
    ("/api/v1/calls", {"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ("/api/v1/calls", {"status": "done"}, "status"),
    ("/api/v1/calls", {"flag": "Long Silence"}, "flag"),
    ("/api/v1/calls", {"agent": "A" * 65}, "agent"),
    ("/api/v1/calls", {"page": "2"}, "page"),
    ("/api/v1/calls", {"cursor": "!!"}, "cursor"),
    ("/api/v1/calls", {"cursor": "bm90IGpzb24"}, "cursor"),
    ("/api/v1/calls", {"cursor": encode_cursor("evaluations", 3)}, "cursor"),
    ("/api/v1/calls", {"cursor": encode_cursor("calls", "2026-01-01", 3)}, "cursor"),
    (
        "/api/v1/calls",
        {"cursor": encode_cursor("calls", "2026-01-01T00:00:00+00:00", -3)},
        "cursor",
    ),
    ("/api/v1/evaluations", {"status": "lost"}, "status"),
    ("/api/v1/evaluations", {"cursor": encode_cursor("evaluations", 1.5)}, "cursor"),
    ("/api/v1/evaluations", {"from": "2026-02-30"}, "from"),
    ("/api/v1/appeals", {"limit": "-1"}, "limit"),
    ("/api/v1/appeals", {"cursor": encode_cursor("appeals", True)}, "cursor"),
    ("/api/v1/reports", {"kind": "hourly"}, "kind"),
    ("/api/v1/reports", {"cursor": encode_cursor("calls", "x", 1)}, "cursor"),
]


def test_bad_parameters_are_a_400_naming_them(app, platform, world):
    api, wrong = Api(app, platform, "sup"), []
    for url, params, name in BAD:
        resp = api.get(url, **params)
        body = resp.get_json() or {}
        if not (resp.status_code == 400 and f"'{name}'" in body.get("error", "")):
            wrong.append((url, params, resp.status_code, body))
    assert wrong == []


def test_evaluations_list_filters_pages_and_scope(app, platform, world):
    ids = world.ids
    published = []
    for n in range(4):
        eid = evaluation_on_new_call(
            platform, ids["agent"], ids["insp"], ids["sup"], (DAY + timedelta(days=n)).date()
        )
        publish_scored(platform, eid, ids["insp"], ids["sup"])
        published.append(eid)
    sup = Api(app, platform, "sup")
    rows = sup.walk("/api/v1/evaluations", "evaluations", limit=2)
    assert sorted(r["id"] for r in rows) == sorted([world.evaluation_id, *published])
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    done = sup.walk("/api/v1/evaluations", "evaluations", limit=3, status="published")
    assert {r["id"] for r in done} == set(published)
    both = sup.ok("/api/v1/evaluations", status=["published", "assigned"], agent="A001")
    assert len(both["evaluations"]) == 5
    day2 = sup.ok("/api/v1/evaluations", **{"from": "2026-02-11", "to": "2026-02-12"})
    assert {r["id"] for r in day2["evaluations"]} == set(published[1:3])
    assert all(isinstance(r["started_at"], str) for r in rows)
    agent = Api(app, platform, "agent")  # published results only, never the open one
    assert {r["id"] for r in agent.walk("/api/v1/evaluations", "evaluations")} == set(published)
    assert Api(app, platform, "agent2").ok("/api/v1/evaluations")["evaluations"] == []
    assert Api(app, platform, "teamsup").ok("/api/v1/evaluations")["evaluations"] == []


def test_appeals_page_like_the_rest(app, platform, world):
    ids, u = world.ids, platform.uow
    appealed = []
    for n in range(3):
        day = (DAY + timedelta(days=n)).date()
        eid = evaluation_on_new_call(platform, ids["agent"], ids["insp"], ids["sup"], day)
        publish_scored(platform, eid, ids["insp"], ids["sup"])
        scoring.file_appeal(u(), eid, ids["agent"], f"申诉 {n}", ["identity_check"])
        appealed.append(eid)
    sup = Api(app, platform, "sup")
    rows = sup.walk("/api/v1/appeals", "appeals", limit=2)
    assert sorted(r["evaluation_id"] for r in rows) == sorted(appealed)
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert {r["reason"] for r in rows} == {"申诉 0", "申诉 1", "申诉 2"}
    assert len(Api(app, platform, "agent").walk("/api/v1/appeals", "appeals", limit=1)) == 3
    assert Api(app, platform, "agent2").ok("/api/v1/appeals")["appeals"] == []
    assert Api(app, platform, "teamsup").ok("/api/v1/appeals")["appeals"] == []


def test_reports_list_and_download(app, platform, world):
    u = platform.uow
    draft = reports.compute_report(u(), "weekly", DAY.date())
    done = reports.compute_report(u(), "daily", DAY.date())
    reports.publish_report(u(), done["id"], world.ids["sup"])
    sup = Api(app, platform, "sup")
    listed = sup.walk("/api/v1/reports", "reports", limit=1)
    assert [r["id"] for r in listed] == [done["id"], draft["id"]]
    assert sup.ok("/api/v1/reports", kind="weekly")["reports"][0]["id"] == draft["id"]
    agent = Api(app, platform, "agent")
    (seen,) = agent.ok("/api/v1/reports")["reports"]
    assert seen["id"] == done["id"] and "created_by" not in seen and "payload" not in seen
    url = f"/api/v1/reports/{done['id']}/download"
    csv = sup.get(url)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]
    assert sup.get(url, format="xlsx").data[:2] == b"PK"
    assert sup.get(url, format="pdf").data[:5] == b"%PDF-"
    assert agent.get(url, format="csv").status_code == 200
    assert agent.get(f"/api/v1/reports/{draft['id']}/download").status_code == 404
    assert sup.get(f"/api/v1/reports/{draft['id'] + 99}/download").status_code == 404
    bad = sup.get(url, format="docx")
    assert bad.status_code == 400 and "'format'" in bad.get_json()["error"]


def test_a_session_reads_the_lists_too(app, world, calls):
    body = as_user(app, "agent").get("/api/v1/calls?limit=2").get_json()
    assert len(body["calls"]) == 2 and body["next_cursor"]


def test_a_blind_re_reviewer_sees_no_first_inspector(app, platform, world):
    ids, u = world.ids, platform.uow
    eid = evaluation_on_new_call(platform, ids["agent"], ids["insp"], ids["sup"], DAY.date())
    publish_scored(platform, eid, ids["insp"], ids["sup"])
    scoring.file_appeal(u(), eid, ids["agent"], "理由", ["identity_check"])
    scoring.assign_appeal_reviewer(u(), eid, ids["sup"], ids["insp2"])
    reviewer = Api(app, platform, "insp2")
    (row,) = reviewer.ok("/api/v1/evaluations")["evaluations"]
    assert row["id"] == eid and row["inspector"] == ""
    call_id = row["call_id"]
    (same,) = reviewer.ok(f"/api/v1/calls/{call_id}/evaluations")["evaluations"]
    assert same["inspector"] == ""
    first = Api(app, platform, "insp").ok("/api/v1/evaluations", status="appealed")
    assert [r["inspector"] for r in first["evaluations"]] != [""]
