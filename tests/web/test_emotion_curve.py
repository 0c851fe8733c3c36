"""The customer emotion curve (客户情绪) on the player timeline: its data is on the page only
where scores were stored, for the latest transcript of the call."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from qa_platform.emotion import SegmentEmotion
from qa_platform.services import emotion as emotion_service
from storage.models_pipeline import Transcript
from tests.web.conftest import as_user


def _transcript_id(session, call_id: int) -> int:
    return session.scalar(select(Transcript.id).where(Transcript.call_id == call_id))


def _score_story_call(platform, call_id: int, scores: list[float]) -> None:
    """Store emotion scores for the story call's transcript through the service."""
    with platform.uow() as uow:
        transcript_id = _transcript_id(uow.session, call_id)
        marks = [
            SegmentEmotion(i, 2.0 * i, 2.0 * i + 1.5, s, None, s) for i, s in enumerate(scores)
        ]
        emotion_service.save_emotion(uow.session, call_id, transcript_id, marks)
        uow.commit()


def _curve(html: str) -> dict | None:
    found = re.search(
        r'<script type="application/json" id="emotion-data">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1)) if found else None


def test_the_evaluation_page_carries_the_curve_data_and_its_label(app, world, platform):
    _score_story_call(platform, world.call_id, [0.2, 0.45, 0.9])
    html = as_user(app, "insp").get(f"/evaluations/{world.evaluation_id}").get_data(as_text=True)
    curve = _curve(html)
    assert curve is not None
    assert curve["label"] == "客户情绪"
    assert [p["score"] for p in curve["points"]] == [0.2, 0.45, 0.9]
    assert curve["points"][1] == {"start": 2.0, "end": 3.5, "score": 0.45}
    assert 'id="emotion-curve"' in html and "/static/emotion.js" in html


def test_a_call_without_scores_has_no_curve(app, world, platform):
    html = as_user(app, "insp").get(f"/evaluations/{world.evaluation_id}").get_data(as_text=True)
    assert _curve(html) is None
    assert 'id="emotion-curve"' not in html and "emotion.js" not in html


def test_storing_the_scores_twice_leaves_one_point_per_segment(app, world, platform):
    _score_story_call(platform, world.call_id, [0.2, 0.45, 0.9])
    _score_story_call(platform, world.call_id, [0.3, 0.5])  # the transcript was re-scored
    html = as_user(app, "insp").get(f"/evaluations/{world.evaluation_id}").get_data(as_text=True)
    assert [p["score"] for p in _curve(html)["points"]] == [0.3, 0.5]
