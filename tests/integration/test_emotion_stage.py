"""Customer emotion is scored in the transcribe stage and stored once per segment; the flag
rules read the stored scores.

Real parts: the pyannote sample conversation laid on two channels (customer right), the real
faster-whisper base model, librosa for the voice, snownlp for the words, the real database.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_platform.domain.pipeline import PIPELINE_VERSION
from qa_platform.emotion import SegmentEmotion as Scores
from qa_platform.flags import default_rule_set, rule_set_from_dict
from qa_platform.queries.calls import show_call
from qa_platform.services import emotion as emotion_service
from qa_platform.services import flags as flag_service
from qa_platform.services import pipeline as ps
from qa_platform.services.context import Platform
from qa_platform.settings import set_settings
from storage.models import Job
from storage.models_emotion import SegmentEmotion
from storage.models_pipeline import Transcript, TranscriptSegment
from tests.factories import add_call, analyse_call, make_people
from tests.helpers.pipeline import demo_stereo_wav, ingest
from tests.helpers.platforms import make_platform
from workers.celery_app import get_app


@pytest.fixture
def english(platform: Platform) -> Platform:
    s = replace(platform.settings, asr_language="en")
    set_settings(s)
    return make_platform(s)


def _rows(platform: Platform, call_id: int) -> list[tuple[int, int, float, float | None, float]]:
    with platform.uow() as uow:
        rows = uow.session.scalars(
            select(SegmentEmotion)
            .where(SegmentEmotion.call_id == call_id)
            .order_by(SegmentEmotion.segment_idx)
        )
        return [(r.id, r.segment_idx, r.text_score, r.arousal, r.score) for r in rows]


def _customer_segments(platform: Platform, call_id: int) -> list[int]:
    with platform.uow() as uow:
        return list(
            uow.session.scalars(
                select(TranscriptSegment.idx)
                .where(TranscriptSegment.call_id == call_id, TranscriptSegment.role == "customer")
                .order_by(TranscriptSegment.idx)
            )
        )


@pytest.mark.slow
def test_the_transcribe_stage_stores_one_score_per_customer_segment_run_twice(
    english: Platform, tmp_path: Path
) -> None:
    call_id = ingest(english, demo_stereo_wav(tmp_path, seconds=12))
    ps.enqueue_pending(english)  # eager: every stage runs once
    first = _rows(english, call_id)
    customer = _customer_segments(english, call_id)
    assert customer and [r[1] for r in first] == customer
    assert all(0.0 <= r[4] <= 1.0 and 0.0 <= r[2] <= 1.0 for r in first)
    assert any(r[3] is not None for r in first)  # the voice was measured
    with english.uow() as uow:
        job = uow.session.scalars(
            select(Job).where(Job.call_id == call_id, Job.stage == "transcribe")
        ).one()
        job.status = "queued"  # as if the message were delivered again
        uow.commit()
    get_app(english.settings).tasks["qa.pipeline.transcribe"].apply(
        args=(call_id, PIPELINE_VERSION)
    )
    assert _rows(english, call_id) == first  # same rows, same ids, same scores
    shown = show_call(english, call_id)["customer_emotion"]  # `qa call show --json`
    assert [p["score"] for p in shown] == [round(r[4], 3) for r in first]


def test_the_flag_rules_read_the_stored_scores_and_rerun_without_audio(platform: Platform) -> None:
    """compute_flags and the rerun load the scores with the transcript (no audio, no snownlp)."""
    people = make_people(platform, inspectors=1, agents=1)
    call_id = add_call(platform, people.agents[0], None, status="processing")
    analyse_call(platform, call_id, flags=())
    with platform.uow() as uow:
        tid = uow.session.scalar(select(Transcript.id).where(Transcript.call_id == call_id))
        marks = [Scores(i, 3.0 * i, 3.0 * i + 2, s, None, s) for i, s in enumerate([0.2, 0.4, 0.9])]
        emotion_service.save_emotion(uow.session, call_id, tid, marks)
        uow.commit()
    data = copy.deepcopy(default_rule_set().to_dict())
    data["rules"]["customer_negative_end"]["enabled"] = True
    enabled = rule_set_from_dict(data)
    found = flag_service.compute_flags(platform, call_id, enabled)
    assert [f.evidence_params["last"] for f in found if f.type == "customer_negative_end"] == [0.9]
    assert (
        not [  # the packaged rule set has it off
            f
            for f in flag_service.compute_flags(platform, call_id)
            if f.type == "customer_negative_end"
        ]
    )
