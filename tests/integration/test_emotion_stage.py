"""Customer emotion is scored in the transcribe stage and stored once per segment.

Real parts: the pyannote sample conversation laid on two channels (customer right), the real
faster-whisper base model, librosa for the voice, snownlp for the words, the real database.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from qa_platform.domain.pipeline import PIPELINE_VERSION
from qa_platform.services import pipeline as ps
from qa_platform.services.context import Platform
from qa_platform.settings import set_settings
from storage.models import Job
from storage.models_emotion import SegmentEmotion
from storage.models_pipeline import TranscriptSegment
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
