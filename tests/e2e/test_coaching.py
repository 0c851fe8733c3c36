"""The coaching loop in a real browser (issue 14's story step): a result published with a red
line opens a coaching task; the agent acknowledges it on the coaching page; the team lead
records the coaching; nothing overflows at 1400 and 1024 px (screenshots in ``QA_SHOTS_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa_platform.services import people
from tests.e2e.conftest import served, sign_in
from tests.factories import FULL, build_story_world, publish_scored

pytestmark = pytest.mark.e2e
SHOTS = Path(
    os.environ.get(
        "QA_SHOTS_DIR",
        Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "coaching",
    )
)


def _page(browser, base: str, username: str, width: int):
    page = sign_in(browser, base, username, width)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def test_agent_acknowledges_and_the_lead_records_the_coaching(platform, browser, tmp_path):
    world = build_story_world(platform, tmp_path)
    people.set_team_lead(platform, "一组", "sup", "admin")
    ids = world.ids
    red_line = dict(FULL, abuse_customer=True)
    publish_scored(platform, world.evaluation_id, ids["insp"], ids["sup"], red_line)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with served(platform) as base:
        agent, agent_errors = _page(browser, base, "agent", 1400)
        agent.click("#nav-coaching")
        row = agent.locator("#coaching-live tr[data-state=open]")
        assert row.count() == 1 and "红线" in row.inner_text()
        agent.screenshot(path=str(SHOTS / "agent-1400.png"), full_page=True)
        row.locator("button.ack").click()
        agent.wait_for_load_state()
        assert "已确认" in agent.locator(".flash.ok").inner_text()
        assert agent.locator("button.ack").count() == 0
        for width in (1400, 1024):
            lead, lead_errors = _page(browser, base, "sup", width)
            lead.goto(base + "/coaching")
            _fits(lead)
            lead.screenshot(path=str(SHOTS / f"lead-{width}.png"), full_page=True)
            assert lead_errors == []
        lead.fill("#coaching-live textarea[name=note]", "复听录音，讲解服务用语和情绪控制")
        lead.click("#coaching-live .coach-form button")
        lead.wait_for_load_state()
        assert "辅导记录已保存" in lead.locator(".flash.ok").inner_text()
        coached = lead.locator("#coaching-live tr[data-state=coached]")
        assert "复听录音，讲解服务用语和情绪控制" in coached.inner_text()
        assert "已辅导" in coached.inner_text()
        lead.screenshot(path=str(SHOTS / "lead-coached-1024.png"), full_page=True)
        assert agent_errors == []
