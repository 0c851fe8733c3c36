"""The reports blueprint: list, page with charts, exports, publish; who sees what."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from scoring.reports import compute_report
from tests.factories import DAY, DURING_WINDOW
from tests.factories import build_report_world as build_world
from tests.web.conftest import Browser


def _login(app, username: str) -> Browser:
    b = Browser(app.test_client())
    assert b.login(username, "x").status_code == 303
    return b


@pytest.fixture
def snap(platform):
    build_world(platform)
    return compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW)


def test_supervisor_sees_page_charts_exports_and_publishes(app, snap):
    sup = _login(app, "sup1")
    assert f"/reports/{snap['id']}" in sup.get("/reports/").get_data(as_text=True)
    page = sup.get(f"/reports/{snap['id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "品质日报 2026-03-02" in html and "业务准确率" in html and "长时间静音" in html
    png = sup.get(f"/reports/{snap['id']}/chart/teams.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    xlsx = sup.get(f"/reports/{snap['id']}/export.xlsx")
    assert "班组" in load_workbook(io.BytesIO(xlsx.data)).sheetnames
    csv = sup.get(f"/reports/{snap['id']}/export.csv")
    assert (
        csv.data.startswith(b"\xef\xbb\xbf") and "attachment" in csv.headers["Content-Disposition"]
    )
    assert sup.post(f"/reports/{snap['id']}/publish").status_code == 303
    assert "已发布" in sup.get(f"/reports/{snap['id']}").get_data(as_text=True)


def test_unpublished_report_is_hidden_from_inspectors_and_agents(app, snap):
    for name in ("ins0", "agent0"):
        b = _login(app, name)
        assert b.get(f"/reports/{snap['id']}").status_code == 404
        assert b.get(f"/reports/{snap['id']}/export.pdf").status_code == 404
        assert f"/reports/{snap['id']}" not in b.get("/reports/").get_data(as_text=True)


def test_agent_sees_only_own_line_once_published(app, snap):
    _login(app, "sup1").post(f"/reports/{snap['id']}/publish")
    html = _login(app, "agent0").get(f"/reports/{snap['id']}").get_data(as_text=True)
    assert "1000" in html  # agent0's 工号
    assert "1001" not in html  # agent1's line is not shown
    assert 'id="teams"' not in html and 'id="inspectors"' not in html


def test_only_supervisors_publish_or_compute(app, snap):
    agent = _login(app, "agent0")
    assert agent.post(f"/reports/{snap['id']}/publish").status_code == 403
    assert (
        agent.post("/reports/compute", {"kind": "daily", "date": "2026-03-02"}).status_code == 403
    )
    sup = _login(app, "sup1")
    assert sup.post("/reports/compute", {"kind": "weekly", "date": "2026-03-02"}).status_code == 303
    assert "2026-W10" in sup.get("/reports/").get_data(as_text=True)
