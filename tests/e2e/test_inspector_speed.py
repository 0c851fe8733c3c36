"""Inspector speed (质检提速) in a real browser (Debian's Chromium via Playwright).

The inspector has two calls in the queue. On the first, the keyboard moves the recording
(±5 s, next flag, play/pause) and the scorecard focus, but not while typing a comment; the
transcript highlight follows the playback; a score typed and left alone is saved by itself
(已保存); submitting swaps the next call in without a page load (a marker set on ``window``
survives, the address changes); submitting the last one goes home with a message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scoring import services as scoring
from tests.e2e.conftest import screenshots, served, sign_in
from tests.e2e.test_story import wait_until
from tests.factories import StoryWorld
from tests.factories import build_story_world as build_world

pytestmark = pytest.mark.e2e
SHOTS = Path(
    os.environ.get("QA_SHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "inspector_speed"
)
AUDIO = "document.getElementById('audio')"


def second_evaluation(platform, world: StoryWorld) -> int:
    """The other story call (agent A002, real audio and transcript) in the inspector's queue."""
    ids, u = world.ids, platform.uow
    plan = {"name": "second", "stream": "random", "method": "simple_random", "size": 1}
    scoring.save_plan(u(), plan | {"filters": {"agent_ids": [ids["agent2"]]}}, actor=ids["sup"])
    run = scoring.run_sampling(u(), "second", seed=3, actor=ids["sup"])
    scoring.assign_run(u(), run["run_id"], actor=ids["sup"], inspector_ids=[ids["insp"]])
    (ev,) = [
        e
        for e in scoring.list_evaluations(u(), inspector=ids["insp"])
        if e["call_id"] == world.other_call_id
    ]
    return int(ev["evaluation_id"])


@pytest.fixture
def server(platform, tmp_path) -> Iterator[tuple[str, StoryWorld, int]]:
    world = build_world(platform, tmp_path)
    second = second_evaluation(platform, world)
    with served(platform) as base:
        yield base, world, second


def login(browser, base: str, username: str):
    return sign_in(browser, base, username)


def shots(page, name: str) -> None:
    screenshots(page, SHOTS, name)


def near(page, seconds: float) -> str:
    return f"Math.abs({AUDIO}.currentTime - {seconds}) < 0.3"


def fill_all(page) -> None:
    for el in page.query_selector_all("#score-form input.score:not([disabled])"):
        if not el.input_value():
            el.fill(el.get_attribute("max"))


IN_VIEW = (
    "(() => { const l = document.getElementById('segments'), s = l.querySelector('.seg.active');"
    " return s && s.offsetTop >= l.scrollTop"
    " && s.offsetTop + s.offsetHeight <= l.scrollTop + l.clientHeight; })()"
)


def active(start: str) -> str:
    """The transcript segment starting at ``start`` is the highlighted one."""
    return (
        f"(document.querySelector('.seg.active') || {{dataset: {{}}}}).dataset.start === '{start}'"
    )


def test_shortcuts_autosave_and_next_call_without_reload(server, browser, platform):
    base, world, second = server
    first = world.evaluation_id
    insp = login(browser, base, "insp")
    insp.goto(f"{base}/evaluations/{first}")
    wait_until(insp, f"{AUDIO}.readyState >= 1")
    assert "快捷键" in insp.inner_text("#shortcut-help")

    # ±5 s and next flag (the story's silence flag at 9.9 s), from the page (no field focused)
    insp.click("h1")
    insp.keyboard.press("l")
    wait_until(insp, near(insp, 5.0))
    insp.keyboard.press("ArrowRight")
    wait_until(insp, near(insp, 10.0))
    insp.keyboard.press("j")
    wait_until(insp, near(insp, 5.0))
    wait_until(insp, active("3.2"))  # the customer's line 3.2–6.5 s
    insp.keyboard.press("f")
    wait_until(insp, near(insp, 9.9))
    wait_until(insp, active("6.8"))  # the highlight moved with the playback
    insp.keyboard.press("l")
    wait_until(insp, near(insp, 14.9))
    wait_until(insp, active("14.5"))
    assert insp.evaluate("() => document.querySelectorAll('.seg.active').length") == 1

    # the transcript box scrolls to the line being played; following can be turned off
    insp.evaluate("() => { document.getElementById('segments').style.maxHeight = '60px'; }")
    insp.keyboard.press("j")
    insp.keyboard.press("j")
    wait_until(insp, active("3.2"))
    wait_until(insp, IN_VIEW)
    insp.uncheck("#follow-playback")
    insp.click("h1")
    insp.keyboard.press("l")
    insp.keyboard.press("l")
    wait_until(insp, active("14.5"))
    assert not insp.evaluate(f"() => {IN_VIEW}")  # highlighted, not scrolled to
    insp.check("#follow-playback")  # turned back on: it scrolls to the line being played
    wait_until(insp, IN_VIEW)
    insp.evaluate("() => { document.getElementById('segments').style.maxHeight = ''; }")

    # play / pause
    insp.keyboard.press("k")
    wait_until(insp, f"!{AUDIO}.paused")
    insp.keyboard.press("k")
    wait_until(insp, f"{AUDIO}.paused")

    # typing a comment is not a shortcut
    before = insp.evaluate(f"() => {AUDIO}.currentTime")
    insp.fill("#comment-form textarea", "")
    insp.type("#comment-form textarea", "lj k")
    assert insp.input_value("#comment-form textarea") == "lj k"
    assert abs(insp.evaluate(f"() => {AUDIO}.currentTime") - before) < 0.01

    # next item: focus moves down the scorecard, also from inside a score field
    insp.click("h1")
    insp.keyboard.press("n")
    first_name = insp.evaluate("() => document.activeElement.name")
    insp.keyboard.press("n")
    second_name = insp.evaluate("() => document.activeElement.name")
    assert first_name.startswith(("score_", "violated_")) and second_name != first_name

    # autosave: a typed score is saved without pressing save
    insp.fill("input[name=score_answer_accuracy]", "12")
    wait_until(insp, "document.getElementById('autosave-status').textContent.includes('已保存')")
    detail = scoring.show_evaluation(platform.uow(), first)
    assert detail["draft"]["results"]["answer_accuracy"]["score"] == 12
    # Ctrl+S saves at once, from inside the field
    insp.fill("input[name=score_answer_accuracy]", "13")
    insp.keyboard.press("Control+s")
    wait_until(
        insp,
        "document.getElementById('autosave-status').textContent.includes('已保存')"
        " && document.querySelector('input[name=row_version]').value"
        f" > {detail['row_version']}",
    )
    assert (
        scoring.show_evaluation(platform.uow(), first)["draft"]["results"]["answer_accuracy"][
            "score"
        ]
        == 13
    )
    shots(insp, "evaluation-speed")

    # submit: the next call is swapped in, the page is not reloaded
    insp.evaluate("() => { window.__speedMarker = 'kept'; }")
    fill_all(insp)
    insp.click("#submit-next")
    wait_until(insp, f"document.documentElement.dataset.evaluationReady === '{second}'")
    assert insp.evaluate("() => window.__speedMarker") == "kept"
    assert insp.url.endswith(f"/evaluations/{second}")
    assert "下一通" in insp.inner_text("#speed-notice")
    assert scoring.show_evaluation(platform.uow(), first)["state"] == "submitted"
    assert f"#{second}" in insp.inner_text("h1")
    # the swapped-in page works: shortcuts move the new recording, autosave saves the new call
    wait_until(insp, f"{AUDIO}.readyState >= 1")
    insp.click("h1")
    insp.keyboard.press("l")
    wait_until(insp, near(insp, 5.0))
    insp.fill("input[name=score_answer_accuracy]", "11")
    wait_until(insp, "document.getElementById('autosave-status').textContent.includes('已保存')")
    detail = scoring.show_evaluation(platform.uow(), second)
    assert detail["draft"]["results"]["answer_accuracy"]["score"] == 11
    shots(insp, "evaluation-next")

    # the last one: home with a message
    fill_all(insp)
    insp.click("#submit-next")
    insp.wait_for_url(f"{base}/home")
    assert "队列中没有待评分的通话了" in insp.inner_text("main")
    assert scoring.show_evaluation(platform.uow(), second)["state"] == "submitted"


def test_a_stale_page_says_so_and_overwrites_nothing(server, browser, platform):
    base, world, _ = server
    eid = world.evaluation_id
    insp = login(browser, base, "insp")
    insp.goto(f"{base}/evaluations/{eid}")
    # someone saves the same evaluation from another window after this page was loaded
    scoring.start_evaluation(platform.uow(), eid, world.ids["insp"])
    insp.fill("input[name=score_answer_accuracy]", "7")
    wait_until(insp, "document.getElementById('autosave-status').textContent.includes('保存失败')")
    text = insp.inner_text("#autosave-status")
    assert "请刷新页面" in text, text
    draft = scoring.show_evaluation(platform.uow(), eid)["draft"] or {}
    assert not draft.get("results")
