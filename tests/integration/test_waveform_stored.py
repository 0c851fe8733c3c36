"""The player's waveform is computed once, by the features stage, and stored per recording."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from qa_platform.domain.calls import CallMetadata
from qa_platform.services import media
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.recordings import plaintext_tempfile
from storage.models_pipeline import CallWaveform
from tests.factories import tone_wav
from workers.tasks import STAGE_WORK


def _features_stage(platform: Platform, call_id: int) -> None:
    work = STAGE_WORK["features"]
    result = work.compute(platform, call_id)
    with platform.uow() as uow:
        work.save(uow.session, call_id, "test", result)
        uow.commit()


@pytest.fixture
def analysed_call(platform: Platform, tmp_path: Path) -> int:
    result = ingest_file(platform, tone_wav(tmp_path / "tone.wav", 6.0, 440.0), CallMetadata())
    assert result.status == "created", result.error
    assert result.call_id is not None
    _features_stage(platform, result.call_id)
    return result.call_id


def test_features_stage_stores_the_peaks_of_the_recording(
    platform: Platform, analysed_call: int
) -> None:
    with platform.uow() as uow:
        row = uow.session.scalars(
            select(CallWaveform).where(CallWaveform.call_id == analysed_call)
        ).one()
        blob_id, peaks, buckets = row.blob_id, row.peaks, row.buckets
    with plaintext_tempfile(platform, analysed_call) as path:
        expected = media.stream_peaks(str(path))
    assert buckets == media.PEAKS and len(peaks) == media.PEAKS
    assert peaks == pytest.approx(expected)
    assert blob_id == media.recording_blob_id(platform, analysed_call)


def test_the_web_node_draws_the_stored_peaks_without_decoding(
    platform: Platform, analysed_call: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    media._cache.clear()

    def no_decoding(*_a: object, **_k: object) -> list[float]:
        raise AssertionError("the recording was decoded to draw its waveform")

    monkeypatch.setattr(media, "stream_peaks", no_decoding)
    peaks = media.waveform(platform, analysed_call)
    assert len(peaks) == media.PEAKS and max(peaks) == pytest.approx(1.0)


def test_running_the_stage_twice_keeps_one_waveform(platform: Platform, analysed_call: int) -> None:
    _features_stage(platform, analysed_call)
    with platform.uow() as uow:
        rows = uow.session.scalars(
            select(CallWaveform).where(CallWaveform.call_id == analysed_call)
        ).all()
    assert len(rows) == 1


def test_peaks_of_another_blob_are_not_drawn(platform: Platform, analysed_call: int) -> None:
    with platform.uow() as uow:
        row = uow.session.scalars(
            select(CallWaveform).where(CallWaveform.call_id == analysed_call)
        ).one()
        row.peaks = [0.0] * media.PEAKS
        row.blob_id = "another-recording"
        uow.commit()
    media._cache.clear()
    peaks = media.waveform(platform, analysed_call)  # decoded again: the stored row is stale
    assert max(peaks) == pytest.approx(1.0)
