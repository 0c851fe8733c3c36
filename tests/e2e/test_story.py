"""The whole story in a real browser (Debian's Chromium via Playwright), screenshots of each page.

inspector scores a sampled call and submits → supervisor returns it → inspector fixes and
resubmits → supervisor approves and publishes → agent appeals one item → supervisor assigns
another re-reviewer → that reviewer revises → agent sees the revised score.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scoring import services as scoring
from tests.e2e.conftest import served
from tests.factories import PASSWORD
from tests.factories import build_story_world as build_world

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def server(platform, tmp_path) -> Iterator[tuple[str, object]]:
    world = build_world(platform, tmp_path)
    with served(platform) as base:
        yield base, world


class Story:
    def __init__(self, browser, base: str) -> None:
        self.browser, self.base, self.n = browser, base, 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def login(self, username: str):
        ctx = self.browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        page = ctx.new_page()
        page.goto(self.base + "/login")
        self.shot(page, f"login-{username}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    def shot(self, page, name: str) -> None:
        self.n += 1
        page.screenshot(path=str(SHOTS / f"{self.n:02d}-{name}.png"), full_page=True)


def wait_until(page, expression: str, timeout_s: float = 10.0) -> None:
    """Poll a JS expression (page CSP forbids Playwright's eval-based wait_for_function)."""
    import time

    end = time.monotonic() + timeout_s
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < end, f"timed out waiting for {expression}"
        time.sleep(0.1)


def _fill_scores(page, fraction: float) -> None:
    for el in page.query_selector_all("input.score:not([disabled])"):
        top = float(el.get_attribute("max"))
        el.fill(str(round(top * fraction * 2) / 2))


def _state(platform, eid) -> str:
    return scoring.show_evaluation(platform.uow(), eid)["state"]


def test_story(server, browser, platform):
    base, world = server
    eid, story = world.evaluation_id, Story(browser, base)

    insp = story.login("insp")
    assert insp.url.endswith("/home")  # the inspector's home (质检员首页); the queue is one click
    insp.click("a[href='/queue']")
    insp.wait_for_load_state()
    assert "随机抽检" in insp.content()
    story.shot(insp, "inspector-queue")
    insp.click("a.open-eval")
    insp.wait_for_selector("#segments li")
    wait_until(insp, "document.getElementById('audio').readyState >= 1")
    seg = insp.query_selector_all("#segments li")[2]
    seg.click()
    wait_until(insp, "Math.abs(document.getElementById('audio').currentTime - 6.8) < 0.3")
    assert "active" in seg.get_attribute("class")
    assert insp.inner_text("#comment-time") == "00:06"
    story.shot(insp, "evaluation-seeked")
    insp.fill("#comment-form textarea", "坐席已核验两项身份要素")
    insp.click("#add-comment")
    insp.wait_for_load_state()
    _fill_scores(insp, 0.5)
    insp.click("#submit-eval")
    insp.wait_for_load_state()
    story.shot(insp, "evaluation-submitted")
    assert _state(platform, eid) == "submitted"

    sup = story.login("sup")
    assert sup.url.endswith("/dashboard")  # the supervisor's home is the dashboard
    sup.goto(f"{base}/review")
    story.shot(sup, "supervisor-review-queue")
    sup.goto(f"{base}/evaluations/{eid}")
    sup.fill("#return-reason", "业务解答评分偏低，请复听第二段")
    sup.click("#return-eval")
    sup.wait_for_load_state()
    story.shot(sup, "supervisor-returned")
    assert _state(platform, eid) == "returned"

    insp.goto(f"{base}/evaluations/{eid}")
    assert "业务解答评分偏低" in insp.content()
    story.shot(insp, "inspector-sees-return")
    _fill_scores(insp, 1.0)
    insp.click("#submit-eval")
    insp.wait_for_load_state()
    assert _state(platform, eid) == "submitted"

    sup.goto(f"{base}/evaluations/{eid}")
    sup.click("#approve-eval")
    sup.wait_for_load_state()
    sup.click("#publish-eval")
    sup.wait_for_load_state()
    story.shot(sup, "supervisor-published")
    assert _state(platform, eid) == "published"

    agent = story.login("agent")
    story.shot(agent, "agent-results")
    agent.goto(f"{base}/my/results/{eid}")
    assert agent.inner_text("#appeal-deadline")
    agent.click("button[data-seek]")  # the comment's moment: the player seeks there
    wait_until(agent, "document.getElementById('audio').currentTime > 6")
    agent.check("input[name=items][value=answer_accuracy]")
    agent.fill("#appeal-form textarea", "已按流程准确解答理赔进度")
    story.shot(agent, "agent-appeal-form")
    agent.click("#file-appeal")
    agent.wait_for_load_state()
    assert _state(platform, eid) == "appealed"

    sup.goto(f"{base}/supervisor/appeals".replace("/supervisor", ""))
    story.shot(sup, "supervisor-appeals")
    sup.goto(f"{base}/evaluations/{eid}")
    options = sup.inner_text("#reviewer-select")
    assert "insp " not in options.replace("insp2", "")  # the original inspector is not offered
    sup.select_option("#reviewer-select", str(world.ids["insp2"]))  # another inspector
    sup.click("#assign-reviewer")
    sup.wait_for_load_state()

    reviewer = story.login("insp2")
    reviewer.goto(f"{base}/evaluations/{eid}")
    reviewer.fill("#revise-answer_accuracy", "18")
    reviewer.fill("#decide-form textarea", "部分采纳申诉")
    story.shot(reviewer, "reviewer-decides")
    reviewer.click("#revise")
    reviewer.wait_for_load_state()
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["state"] == "final" and detail["current_version"] == 2

    agent.goto(f"{base}/my/results/{eid}")
    assert agent.inner_text("#appeal-status") == "改判"
    assert agent.inner_text("#result-total") == f"{detail['total']:.1f}"
    story.shot(agent, "agent-sees-revision")
    agent.click("#lang-switch")
    agent.wait_for_load_state()
    assert agent.inner_text("#appeal-status") == "Revised"
    story.shot(agent, "agent-english")

    admin = story.login("admin")
    story.shot(admin, "admin-users")
    admin.goto(f"{base}/admin/keys")
    story.shot(admin, "admin-keys")
    admin.goto(f"{base}/calls?text=理赔")
    assert admin.query_selector_all("#search-results tbody tr a")
    story.shot(admin, "call-search")
    admin.click("#search-results tbody tr a")
    admin.wait_for_selector("#segments li")
    story.shot(admin, "call-page")
    for path in ("/review", "/plans", "/calibration", "/config", "/admin/teams", "/appeals"):
        admin.goto(base + path)
        assert admin.locator("h1").count() == 1
        story.shot(admin, "admin" + path.replace("/", "-"))
