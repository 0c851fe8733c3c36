"""The complaint closed loop in a real browser (issue 14's story step): a supervisor opens a
complaint from the call page, the case shows on the complaint desk with its alert, and is closed
with its outcome; the call moves to the 5-year retention class."""

from __future__ import annotations

import pytest

from qa_platform.queries.calls import show_call
from tests.e2e.conftest import served
from tests.factories import PASSWORD, build_story_world

pytestmark = pytest.mark.e2e


def test_open_from_the_call_see_the_alert_and_close_the_case(platform, browser, tmp_path):
    world = build_story_world(platform, tmp_path)
    with served(platform) as base:
        ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/login")
        page.fill("input[name=username]", "sup")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/calls/{world.call_id}")
        page.select_option("#call-complaints select[name=kind]", "complaint")
        page.fill("#call-complaints input[name=summary]", "客户投诉理赔进度太慢，要求给个说法")
        page.click("#open-complaint")
        page.wait_for_load_state()
        assert "投诉工单已受理" in page.inner_text(".flash.ok")
        assert "一般投诉" in page.inner_text("#call-complaints")
        page.click("#nav-complaints")
        alerts = page.locator("#complaint-alerts tr[data-case]")
        assert alerts.count() == 1 and "处理中" in alerts.inner_text()
        alerts.locator("a").first.click()
        page.wait_for_load_state()
        assert "客户投诉理赔进度太慢" in page.inner_text("main")
        page.fill("textarea[name=text]", "已致电客户致歉并加急处理，客户表示认可")
        page.click("#close-case")
        page.wait_for_load_state()
        assert "已结案" in page.inner_text(".flash.ok")
        assert "已致电客户致歉" in page.inner_text("main")
        shown = show_call(platform, world.call_id)
        assert [c["state"] for c in shown["complaints"]] == ["closed"]
        assert "complaint" in shown["retention"]["classes"], shown["retention"]
        assert errors == []
