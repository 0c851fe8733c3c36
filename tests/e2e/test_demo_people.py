"""The whole story in a real browser, played by the demo's own people with the passwords that
``qa demo`` wrote to its credentials file (real speech model, two of the demo calls).

inspector scores and submits → the demo supervisor ``zhuguan`` (QA team 质检组, overseeing the
demo's agent teams 一组/二组) returns it once → the inspector fixes → approve → publish → the
agent appeals → the supervisor assigns the other inspector → revised result → the agent sees it.
Along the way the evaluation and result pages are shot at 1400 and 1024 px and checked for the
flag bar staying inside the player card.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_platform.services.demo import INSPECTORS, SUPERVISOR, credentials_file, run_demo
from scoring import services as scoring
from storage.models_scoring import EvaluationRow
from tests.e2e.conftest import served
from tests.e2e.test_story import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.worker, pytest.mark.timeout(1500)]
SHOTS = Path(
    os.environ.get(
        "QA_SHOTS_DIR",
        Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "demo-people",
    )
)
TWO_CALLS = ("call_stereo.wav", "call_8k_mulaw.wav")  # agents A1001 (一组), A2001 (二组)
WIDTHS = (1400, 1024)


@dataclass
class DemoWorld:
    base: str
    passwords: dict[str, str]
    evaluation_id: int
    inspector: str
    other_inspector: str
    agent: str


def _two_call_manifest(platform, tmp: Path) -> Path:
    """The demo's own recordings and manifest, cut to two calls (the real model is slow)."""
    from qa_platform.demo_audio import build_demo_calls

    full = build_demo_calls(Path(platform.settings.home) / "demo")
    rows = list(csv.reader(full.open(encoding="utf-8")))
    manifest = full.parent / "two.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([rows[0], *(r for r in rows[1:] if r[0] in TWO_CALLS)])
    return manifest


def _random_evaluation(platform) -> EvaluationRow:
    """The demo's random-stream evaluation of an agent's call (assigned to a demo inspector)."""
    with platform.uow() as uow:
        stmt = select(EvaluationRow).where(EvaluationRow.stream == "random")
        row = uow.session.scalars(stmt.order_by(EvaluationRow.id)).first()
        assert row is not None, "the demo draws a random sample and assigns it"
        uow.session.expunge(row)
        return row


@pytest.fixture
def demo(platform, tmp_path) -> Iterator[DemoWorld]:
    run_demo(platform, _two_call_manifest(platform, tmp_path), history_seed=None)
    passwords = json.loads(credentials_file(platform).read_text(encoding="utf-8"))
    ev = _random_evaluation(platform)
    names = {u["id"]: u["username"] for u in _users(platform)}
    inspector = names[ev.inspector_id]
    with served(platform) as base:
        yield DemoWorld(
            base,
            passwords,
            ev.id,
            inspector,
            next(i for i in INSPECTORS if i != inspector),
            names[ev.agent_id],
        )


def _users(platform) -> list[dict]:
    from qa_platform.services.users import list_users

    return list_users(platform)


class People:
    """Signed-in pages of the demo's people, with numbered screenshots."""

    def __init__(self, browser, world: DemoWorld) -> None:
        self.browser, self.world, self.n = browser, world, 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def login(self, username: str, width: int = 1400):
        ctx = self.browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
        page = ctx.new_page()
        page.goto(self.world.base + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", self.world.passwords[username])
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{username} could not sign in with the demo password"
        return page

    def shot(self, page, name: str) -> None:
        self.n += 1
        page.screenshot(path=str(SHOTS / f"{self.n:02d}-{name}.png"), full_page=True)

    def shots_at_widths(self, page, url: str, name: str) -> None:
        """The page at every width: shot, and the flag bar checked inside the player card."""
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            wait_until(page, "document.getElementById('audio').readyState >= 1")
            assert_flags_inside_player(page)
            self.shot(page, f"{name}-{width}")


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def assert_flags_inside_player(page) -> None:
    """Every flag mark lies inside the waveform of the player card, and the side column (the
    scorecard) starts right of the player: nothing of the player covers a scorecard item."""
    wave, card = _box(page, ".wave-wrap"), _box(page, "#player")
    marks = page.locator(".flag-mark")
    assert marks.count() > 0, "the demo calls carry flags"
    for i in range(marks.count()):
        m = marks.nth(i).bounding_box()
        assert m is not None
        assert m["x"] >= wave["x"] - 0.5 and m["x"] + m["width"] <= wave["x"] + wave["width"] + 0.5
        assert m["y"] >= card["y"] and m["y"] + m["height"] <= card["y"] + card["height"]
    side = page.locator(".col-side")
    if side.count():
        s = side.first.bounding_box()
        assert s is not None
        stacked = s["y"] >= card["y"] + card["height"]
        assert stacked or s["x"] >= card["x"] + card["width"], (s, card)


def _fill_scores(page, fraction: float) -> None:
    for el in page.query_selector_all("input.score:not([disabled])"):
        top = float(el.get_attribute("max"))
        el.fill(str(round(top * fraction * 2) / 2))
    # a score that differs from the machine's suggestion asks for the reason (改判理由)
    for reason in page.query_selector_all("[id^='reason-']"):
        if reason.is_visible():
            reason.fill("复听录音后按评分标准改判")


def _state(platform, eid) -> str:
    return scoring.show_evaluation(platform.uow(), eid)["state"]


def test_demo_people_play_the_story(demo, browser, platform):
    w, people = demo, People(browser, demo)
    eid, url = demo.evaluation_id, f"{demo.base}/evaluations/{demo.evaluation_id}"

    insp = people.login(w.inspector)
    insp.goto(f"{demo.base}/queue")  # from the inspector's home to the queue
    assert f"/evaluations/{eid}" in insp.content()
    people.shot(insp, "inspector-queue")
    people.shots_at_widths(insp, url, "evaluation")
    insp.set_viewport_size({"width": 1400, "height": 900})
    _fill_scores(insp, 0.5)
    insp.click("#submit-eval")
    insp.wait_for_load_state()
    assert _state(platform, eid) == "submitted"

    sup = people.login(SUPERVISOR)
    sup.goto(f"{demo.base}/review")  # from the dashboard to the review queue
    review = sup.content()
    assert f"/evaluations/{eid}" in review, "the demo supervisor sees the submitted evaluation"
    people.shot(sup, "supervisor-review-queue")
    sup.goto(url)
    sup.fill("#return-reason", "业务解答评分偏低，请复听")
    sup.click("#return-eval")
    sup.wait_for_load_state()
    assert _state(platform, eid) == "returned"

    insp.goto(url)
    assert "业务解答评分偏低" in insp.content()
    _fill_scores(insp, 1.0)
    insp.click("#submit-eval")
    insp.wait_for_load_state()
    assert _state(platform, eid) == "submitted"

    sup.goto(url)
    sup.click("#approve-eval")
    sup.wait_for_load_state()
    sup.click("#publish-eval")
    sup.wait_for_load_state()
    assert _state(platform, eid) == "published"
    people.shots_at_widths(sup, url, "supervisor-evaluation")

    agent = people.login(w.agent)
    result = f"{w.base}/my/results/{eid}"
    people.shots_at_widths(agent, result, "agent-result")
    agent.set_viewport_size({"width": 1400, "height": 900})
    agent.check("input[name=items][value=answer_accuracy]")
    agent.fill("#appeal-form textarea", "已按流程准确解答")
    agent.click("#file-appeal")
    agent.wait_for_load_state()
    assert _state(platform, eid) == "appealed"

    sup.goto(f"{w.base}/appeals")
    assert f"/evaluations/{eid}" in sup.content()
    people.shot(sup, "supervisor-appeals")
    sup.goto(url)
    reviewer_id = next(u["id"] for u in _users(platform) if u["username"] == w.other_inspector)
    sup.select_option("#reviewer-select", str(reviewer_id))
    sup.click("#assign-reviewer")
    sup.wait_for_load_state()

    reviewer = people.login(w.other_inspector)
    reviewer.goto(url)
    reviewer.fill("#revise-answer_accuracy", "18")
    reviewer.fill("#decide-form textarea", "部分采纳申诉")
    people.shot(reviewer, "reviewer-decides")
    reviewer.click("#revise")
    reviewer.wait_for_load_state()
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["state"] == "final" and detail["current_version"] == 2

    agent.goto(result)
    assert agent.inner_text("#appeal-status") == "改判"
    assert agent.inner_text("#result-total") == f"{detail['total']:.1f}"
    people.shots_at_widths(agent, result, "agent-sees-revision")
