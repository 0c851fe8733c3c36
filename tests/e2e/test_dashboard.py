"""The supervisor's dashboard in a real browser over the demo's generated history: the three
charts are drawn (Chart.js instances on their canvases), nothing is logged to the console, and
nothing overflows the page at 1400 and 1024 px (screenshots in ``QA_SHOTS_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa_platform.services.demo import SUPERVISOR, ensure_demo_people
from qa_platform.services.demo_history import generate_history
from tests.e2e.conftest import served

pytestmark = pytest.mark.e2e
AGENTS = [("A1001", "一组"), ("A1002", "一组"), ("A2001", "二组"), ("A2002", "二组")]
SHOTS = Path(
    os.environ.get(
        "QA_SHOTS_DIR",
        Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "dashboard",
    )
)
CHARTS = ("chart-volume", "chart-types", "chart-score")


def _sign_in(browser, base: str, username: str, password: str, width: int):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    problems: list[str] = []

    def console(m) -> None:  # a failed load is checked by URL below (browsers ask for a favicon)
        if m.type in ("error", "warning") and not m.text.startswith("Failed to load resource"):
            problems.append(m.text)

    def response(r) -> None:
        if r.status >= 400 and not r.url.endswith("/favicon.ico"):
            problems.append(f"{r.status} {r.url}")

    page.on("console", console)
    page.on("response", response)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page, problems


def _no_horizontal_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def test_dashboard_draws_its_charts_over_the_demo_history(platform, browser):
    passwords = ensure_demo_people(platform, AGENTS)
    generate_history(platform, seed=7, supervisor=SUPERVISOR)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with served(platform) as base:
        for width in (1400, 1024):
            page, problems = _sign_in(browser, base, SUPERVISOR, passwords[SUPERVISOR], width)
            assert page.url.endswith("/dashboard"), page.url  # the supervisor's home
            page.wait_for_function("window.qaDashboardCharts !== undefined")
            drawn = page.evaluate(
                "ids => ids.map(id => !!Chart.getChart(document.getElementById(id)))", list(CHARTS)
            )
            assert drawn == [True, True, True]
            points = page.evaluate(
                "Chart.getChart(document.getElementById('chart-volume')).data.datasets[0]"
                ".data.reduce((a, b) => a + b, 0)"
            )
            assert points > 2000  # eight weeks of generated calls
            assert page.locator("#rank-agent tbody tr").count() >= 4
            _no_horizontal_overflow(page)
            page.screenshot(path=str(SHOTS / f"dashboard-{width}.png"), full_page=True)
            assert problems == []
            page.context.close()
            home, problems = _sign_in(browser, base, "zhijian1", passwords["zhijian1"], width)
            assert home.url.endswith("/home"), home.url
            _no_horizontal_overflow(home)
            home.screenshot(path=str(SHOTS / f"inspector-home-{width}.png"), full_page=True)
            assert problems == []
            home.context.close()
