"""Calibration in a real browser (Debian's Chromium via Playwright).

The supervisor opens a session over two calls for two inspectors; each inspector finds it on
"我的校准" as 待评分 and scores both calls in the form beside the player (an item left blank is
refused with a Chinese message naming it); the session turns 已完成. The supervisor sees
Fleiss' kappa per item as scoring.calibration computes it from the same scores, and each
inspector's deviation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa_platform.queries.calibration import calibration_list
from scoring.calibration import fleiss_kappa_from_ratings
from tests.e2e.conftest import screenshots, served, sign_in
from tests.factories import FULL
from tests.factories import build_story_world as build_world

pytestmark = pytest.mark.e2e
SHOTS = Path(
    os.environ.get("QA_SHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "calibration"
)


@pytest.fixture
def server(platform, tmp_path) -> Iterator[tuple[str, object]]:
    world = build_world(platform, tmp_path)
    with served(platform) as base:
        yield base, world


def login(browser, base: str, username: str):
    return sign_in(browser, base, username)


def shots(page, name: str) -> None:
    screenshots(page, SHOTS, name)


def score_call(page, identity: str) -> None:
    """Full marks except identity_check, then save (the form moves to the next call)."""
    for code, points in FULL.items():
        if points is not False:
            page.fill(f"input[name=score_{code}]", f"{points:g}")
    page.fill("input[name=score_identity_check]", identity)
    page.click("#calib-save")
    page.wait_for_load_state()


def test_two_inspectors_score_in_the_browser_and_the_supervisor_sees_kappa(
    server, browser, platform
):
    base, world = server
    sup = login(browser, base, "sup")
    sup.goto(base + "/calibration")
    sup.fill("input[name=name]", "浏览器校准")
    sup.fill("input[name=call_ids]", f"{world.call_id}, {world.other_call_id}")
    sup.check(f"input[name=inspector_ids][value='{world.ids['insp']}']")
    sup.check(f"input[name=inspector_ids][value='{world.ids['insp2']}']")
    sup.click("text=创建")
    sup.wait_for_load_state()
    assert "浏览器校准" in sup.inner_text("main")
    shots(sup, "supervisor-list")
    (session,) = [s["id"] for s in calibration_list(platform)]

    entered = {"insp": ["10", "5"], "insp2": ["10", "0"]}
    for who, identity in entered.items():
        page = login(browser, base, who)
        page.click("#nav-calibration")
        assert "待评分" in page.inner_text(f"#session-{session}")
        page.click(f"#session-{session} a.calib-call >> nth=0")
        page.wait_for_selector("#calib-form")
        if who == "insp":
            shots(page, "inspector-score")
            page.fill("input[name=score_identity_check]", "")  # left blank: refused
            page.click("#calib-save")
            page.wait_for_selector(".flash.error")
            assert "identity_check" in page.inner_text(".flash.error")
            assert "尚未评分" in page.inner_text(".flash.error")
            shots(page, "inspector-score-error")
        score_call(page, identity[0])
        assert "校准评分已保存" in page.inner_text(".flash.ok")
        score_call(page, identity[1])
        assert "已完成" in page.inner_text(f"#session-{session}")
        if who == "insp2":
            shots(page, "inspector-list")

    sup.goto(f"{base}/calibration/{session}")
    expected = fleiss_kappa_from_ratings([[10.0, 10.0], [5.0, 0.0]])
    shown = sup.inner_text("#item-identity_check [data-v=fleiss]")
    assert shown == f"{expected:.3f}"
    deviation = sup.inner_text(f"#dev-{world.ids['insp']} [data-v=mean]")
    assert re.fullmatch(r"\+0\.\d\d", deviation)  # insp scored more generously
    shots(sup, "supervisor-session")
