"""The monthly report's 机器结果 section in a real browser (Debian's Chromium via Playwright):
machine figures over every analysed call and the machine–human agreement table with the item
below the kappa threshold marked; screenshots at 1400 and 1024 px."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from scoring.reports import compute_report
from tests.e2e.conftest import served
from tests.web.test_report_machine import LATER, build_machine_world

pytestmark = pytest.mark.e2e
SHOTS = Path(
    os.environ.get("QA_SHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "report_machine"
)


@pytest.fixture
def server(platform) -> Iterator[tuple[str, int]]:
    build_machine_world(platform)
    snap = compute_report(platform.uow(), "monthly", date(2026, 12, 1), now=LATER)
    with served(platform) as base:
        yield base, snap["id"]


def test_supervisor_reads_machine_figures_and_the_agreement_table(browser, server) -> None:
    base, snapshot_id = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page.goto(base + "/login")
    page.fill("input[name=username]", "sup1")
    page.fill("input[name=password]", "x")
    page.click("button[type=submit]")
    page.goto(f"{base}/reports/{snapshot_id}")
    page.click("a[href='#machine']")
    section = page.locator("#machine")
    assert section.is_visible()
    centre = page.locator("#machine-centre tbody tr").first.inner_text()
    assert "全中心" in centre and "80.0%" in centre
    weak = page.locator("#machine-agreement tr.weak")
    assert "规范结束语" in " ".join(weak.all_inner_texts())
    assert page.locator("#machine-agreement_trend tbody tr").count() == 2
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1400, 1024):
        page.set_viewport_size({"width": width, "height": 1000})
        section.screenshot(path=str(SHOTS / f"machine-{width}.png"))
