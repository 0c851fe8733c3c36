"""The customer emotion curve (客户情绪) drawn in a real browser over the player's flag bar."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa_platform.emotion import SegmentEmotion
from qa_platform.services import emotion as emotion_service
from tests.e2e.conftest import served
from tests.e2e.test_autoqa_review import login
from tests.factories import STORY_LINES
from tests.factories import build_story_world as build_world
from tests.web.test_emotion_curve import _transcript_id

pytestmark = pytest.mark.e2e
SHOTS = Path(
    os.environ.get("QA_SHOTS_DIR")
    or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "emotion"
)
SCORES = {1: 0.35, 3: 0.85}  # the story's two customer segments: calm, then negative


@pytest.fixture
def server(platform, tmp_path) -> Iterator[tuple[str, object]]:
    world = build_world(platform, tmp_path)
    marks = [
        SegmentEmotion(i, STORY_LINES[i][0], STORY_LINES[i][1], s, 0.5, s)
        for i, s in SCORES.items()
    ]
    with platform.uow() as uow:
        tid = _transcript_id(uow.session, world.call_id)
        emotion_service.save_emotion(uow.session, world.call_id, tid, marks)
        uow.commit()
    with served(platform) as base:
        yield base, world


def test_the_curve_is_drawn_over_the_flag_bar_with_its_label(server, browser):
    base, world = server
    page = login(browser, base, "insp")
    page.goto(f"{base}/evaluations/{world.evaluation_id}")
    page.wait_for_selector("#emotion-curve polyline.emotion-line")
    points = page.get_attribute("#emotion-curve polyline.emotion-line", "points") or ""
    assert len(points.split()) == len(SCORES)
    assert page.inner_text("#emotion-curve .emotion-label") == "客户情绪"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1400, 1024):
        page.set_viewport_size({"width": width, "height": 1000})
        curve = page.locator("#emotion-curve").bounding_box()
        bar = page.locator("#flag-marks").bounding_box()
        wave = page.locator(".wave-wrap").bounding_box()
        assert curve and bar and wave
        assert curve["y"] + curve["height"] <= bar["y"] + 0.5  # above the flag bar, not on it
        assert curve["width"] == pytest.approx(wave["width"], abs=1)
        page.screenshot(path=str(SHOTS / f"evaluation-{width}.png"), full_page=True)
