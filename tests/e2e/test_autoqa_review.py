"""Machine suggestions in a real browser (Debian's Chromium via Playwright).

The story call carries two machine findings (agent id missing, identity not checked) and the
auto-QA stage has judged it. The inspector finds the form pre-filled with the suggestions,
seeks the player from the evidence, accepts two suggestions with one click each, overrides
one (a blank reason is refused with a Chinese message naming the item), submits; the
supervisor sees the machine's suggestion beside the inspector's score and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scoring import services as scoring
from scoring.services import autoqa
from tests.e2e.conftest import screenshots, served, sign_in
from tests.e2e.test_story import wait_until
from tests.factories import build_story_world as build_world
from tests.factories import set_flags
from tests.web.test_autoqa_review import MACHINE_FLAGS

pytestmark = pytest.mark.e2e
SHOTS = Path(
    os.environ.get("QA_SHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "autoqa_review"
)


@pytest.fixture
def server(platform, tmp_path) -> Iterator[tuple[str, object]]:
    world = build_world(platform, tmp_path)
    set_flags(platform, {world.call_id: MACHINE_FLAGS})
    autoqa.evaluate_call(platform, world.call_id)
    with served(platform) as base:
        yield base, world


def login(browser, base: str, username: str):
    return sign_in(browser, base, username)


def shots(page, name: str) -> None:
    screenshots(page, SHOTS, name)


def test_inspector_accepts_and_overrides_supervisor_sees_the_reason(server, browser, platform):
    base, world = server
    eid = world.evaluation_id
    insp = login(browser, base, "insp")
    insp.goto(f"{base}/evaluations/{eid}")
    insp.wait_for_selector("#machine-identity_check")
    assert insp.input_value("input[name=score_greeting_agent_id]") == "3.0"
    assert insp.input_value("input[name=score_identity_check]") == "0.0"
    assert "未核验身份" in insp.inner_text("#machine-identity_check")

    # the evidence seeks the player to the finding (6.8 s)
    wait_until(insp, "document.getElementById('audio').readyState >= 1")
    insp.click("#machine-identity_check .machine-evidence button[data-seek]")
    wait_until(insp, "Math.abs(document.getElementById('audio').currentTime - 6.8) < 0.3")

    # accept two: the inspector had typed something else; one click puts the suggestion back
    insp.fill("input[name=score_greeting_agent_id]", "6")
    assert insp.is_visible("#reason-greeting_agent_id")  # an override asks for its reason
    insp.click("#accept-greeting_agent_id")
    assert insp.input_value("input[name=score_greeting_agent_id]") == "3.0"
    assert not insp.is_visible("#reason-greeting_agent_id")
    insp.fill("input[name=score_closing_phrase]", "1")
    insp.click("#accept-closing_phrase")
    assert insp.input_value("input[name=score_closing_phrase]") == "4.0"

    # override one: the reason field appears; a blank reason is refused naming the item
    assert not insp.is_visible("#reason-identity_check")
    insp.fill("input[name=score_identity_check]", "10")
    assert insp.is_visible("#reason-identity_check")
    for el in insp.query_selector_all("input.score:not([disabled])"):
        if not el.input_value():
            el.fill(el.get_attribute("max"))
    insp.fill("#reason-identity_check", "   ")  # passes the browser's check, not the server's
    insp.click("#submit-eval")
    insp.wait_for_load_state()
    flash = insp.inner_text(".flash.error")
    assert "双因素身份核验" in flash and "请填写改判理由" in flash, flash
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "assigned"

    insp.fill("input[name=score_identity_check]", "10")
    for el in insp.query_selector_all("input.score:not([disabled])"):
        if not el.input_value():
            el.fill(el.get_attribute("max"))
    insp.fill("#reason-identity_check", "00:07 坐席已核验保单号后六位和身份证后四位")
    shots(insp, "evaluation-inspector")
    insp.click("#submit-eval")
    insp.wait_for_load_state()
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "submitted"

    sup = login(browser, base, "sup")
    sup.goto(f"{base}/review")
    sup.click(f"a.open-eval[href='/evaluations/{eid}']")
    sup.wait_for_selector("#machine-compare")
    row = sup.inner_text("#compare-identity_check")
    assert "已改判" in row and "00:07 坐席已核验保单号后六位和身份证后四位" in row, row
    cells = sup.query_selector_all("#compare-identity_check td")
    assert [c.inner_text().strip() for c in cells[1:3]] == ["0", "10"]
    assert "已采纳" in sup.inner_text("#compare-greeting_agent_id")
    assert "已采纳" in sup.inner_text("#compare-closing_phrase")
    shots(sup, "evaluation-supervisor")
