"""The speech pipeline in the embedded default: the same Celery tasks, run eagerly.

Real parts: the pyannote sample conversation (English) laid on two channels, the real
faster-whisper base model, the real database and encrypted blob store.
"""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from qa_platform.cli.core import call as call_group
from qa_platform.cli.pipeline import process, reconcile
from qa_platform.domain.pipeline import PIPELINE_VERSION
from qa_platform.queries.calls import show_call
from qa_platform.services import pipeline as ps
from qa_platform.services.context import Platform
from qa_platform.settings import set_settings
from storage.crypto import encrypt_stream
from storage.models import Job, Recording
from storage.models_autoqa import AutoEvaluationRow
from storage.models_pipeline import CallFeatures, CallSpeaker, Transcript, TranscriptSegment
from tests.helpers.pipeline import demo_stereo_wav, ingest
from tests.helpers.platforms import make_platform
from workers import jobs
from workers.celery_app import get_app


@pytest.fixture
def english(platform: Platform) -> Platform:
    """The demo sample is English: ASR language ``en`` (the product default is ``zh``)."""
    s = replace(platform.settings, asr_language="en")
    set_settings(s)
    return make_platform(s)


def _show(call_id: int) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(call_group, ["show", str(call_id), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _counts(platform: Platform, call_id: int) -> dict[str, int]:
    with platform.uow() as uow:
        count = lambda model: uow.session.scalar(  # noqa: E731
            select(func.count()).select_from(model).where(model.call_id == call_id)
        )
        return {
            m.__tablename__: int(count(m) or 0)
            for m in (Transcript, TranscriptSegment, CallFeatures, CallSpeaker, AutoEvaluationRow)
        }


@pytest.mark.slow
def test_qa_process_analyses_a_stereo_call_into_agent_and_customer_segments(
    english: Platform, tmp_path: Path
) -> None:
    call_id = ingest(english, demo_stereo_wav(tmp_path))
    result = CliRunner().invoke(process, ["--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["enqueued"] == [call_id]
    shown = _show(call_id)
    assert shown["status"] == "analysed" and shown["error"] is None
    roles = {s["role"] for s in shown["segments"]}
    assert roles == {"agent", "customer"}
    assert all(s["text"] and s["end"] >= s["start"] for s in shown["segments"])
    assert all(w["end"] >= w["start"] for s in shown["segments"] for w in s["words"])
    assert "Jersey" in " ".join(s["text"] for s in shown["segments"])
    features = shown["features"]
    assert set(features["talk_time_s"]) == {"agent", "customer"}
    assert features["longest_silence_s"] > 0 and 0 < features["silence_ratio"] < 1
    assert features["overlap_s"] >= 0
    assert {sp["role"] for sp in shown["speakers"]} == {"agent", "customer"}
    assert shown["transcript_model"]["name"] == "faster-whisper-base"
    assert shown["transcript_model"]["language"] == "en"
    assert [(j["stage"], j["status"], j["attempts"]) for j in shown["jobs"]] == [
        ("features", "done", 1),
        ("transcribe", "done", 1),
        ("flags", "done", 1),
        ("autoqa", "done", 1),
        ("finish", "done", 1),
    ]


@pytest.mark.slow
def test_running_every_stage_twice_leaves_one_result(english: Platform, tmp_path: Path) -> None:
    call_id = ingest(english, demo_stereo_wav(tmp_path, seconds=10))
    ps.enqueue_pending(english)
    first = _counts(english, call_id)
    segments_before = show_call(english, call_id)["segments"]
    app = get_app(english.settings)
    for stage in ("features", "transcribe", "flags", "autoqa", "finish"):
        _reopen(english, call_id, stage)  # as if the message were delivered again
        app.tasks[f"qa.pipeline.{stage}"].apply(args=(call_id, PIPELINE_VERSION))
    assert _counts(english, call_id) == first
    assert first["transcripts"] == 1 and first["transcript_segments"] == len(segments_before) > 0
    assert first["call_features"] == 1 and first["call_speakers"] == 2
    assert first["auto_evaluations"] == 1
    after = show_call(english, call_id)
    assert after["status"] == "analysed"
    assert [s["text"] for s in after["segments"]] == [s["text"] for s in segments_before]
    assert {j["stage"]: j["attempts"] for j in after["jobs"]} == {
        "features": 2,
        "transcribe": 2,
        "flags": 2,
        "autoqa": 2,
        "finish": 2,
    }


def _reopen(platform: Platform, call_id: int, stage: str) -> None:
    with platform.uow() as uow:
        job = uow.session.scalars(
            select(Job).where(Job.call_id == call_id, Job.stage == stage)
        ).one()
        job.status = "queued"
        uow.commit()


def _replace_audio(platform: Platform, call_id: int, plaintext: bytes) -> None:
    """Re-encrypt different bytes under the call's own key (audio damaged before ingest checks)."""
    with platform.uow() as uow:
        rec = uow.session.scalars(select(Recording).where(Recording.call_id == call_id)).one()
        blob_id, kek_id, wrapped = rec.blob_id, rec.kek_id, rec.wrapped_key
    assert kek_id and wrapped
    key = platform.keyring.unwrap(kek_id, wrapped, blob_id)
    platform.store.delete(blob_id)
    platform.store.write(
        blob_id, encrypt_stream(io.BytesIO(plaintext), key, blob_id, platform.settings.chunk_size)
    )


def test_corrupt_audio_fails_the_call_with_the_reason_and_is_not_retried(
    platform: Platform, tmp_path: Path
) -> None:
    # A PNG where a WAV should be (stored before today's ingest checks existed).
    wav = demo_stereo_wav(tmp_path, seconds=3)
    call_id = ingest(platform, wav)
    _replace_audio(platform, call_id, b"\x89PNG\r\n\x1a\n" + wav.read_bytes()[8:])
    result = CliRunner().invoke(process, ["--json"])
    assert result.exit_code == 1  # a call failed
    shown = show_call(platform, call_id)
    assert shown["status"] == "failed"
    assert "unsupported or unrecognised audio container" in shown["error"]
    jobs = {j["stage"]: (j["status"], j["attempts"]) for j in shown["jobs"]}
    assert jobs["features"] == ("failed", 1)
    assert jobs["transcribe"] == ("queued", 0)  # never reached a GPU queue
    # Processing again does not pick a permanently failed call up.
    assert ps.enqueue_pending(platform) == []


def test_a_tampered_recording_fails_the_call_with_an_integrity_error(
    platform: Platform, tmp_path: Path
) -> None:
    call_id = ingest(platform, demo_stereo_wav(tmp_path, seconds=3))
    with platform.uow() as uow:
        blob_id = uow.session.scalars(
            select(Recording.blob_id).where(Recording.call_id == call_id)
        ).one()
    path = next(p for p in platform.settings.blobs.rglob("*") if p.is_file() and blob_id in p.name)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    ps.enqueue_pending(platform)
    shown = show_call(platform, call_id)
    assert shown["status"] == "failed" and shown["error"].startswith("features:")
    assert {j["stage"]: j["attempts"] for j in shown["jobs"]}["features"] == 1


@pytest.mark.slow
def test_reconcile_resends_a_stage_whose_worker_vanished(english: Platform, tmp_path: Path) -> None:
    call_id = ingest(english, demo_stereo_wav(tmp_path, seconds=6))
    sent: list[tuple[str, int]] = []
    ps.enqueue_pending(english, dispatch=lambda stage, cid, v: sent.append((stage.name, cid)))
    assert sent == [("features", call_id)]  # the message is "lost": nothing consumed it
    later = datetime.now(UTC) + timedelta(seconds=english.settings.broker_visibility_timeout_s + 1)
    report = ps.reconcile(english, now=later)
    assert report.resent == [{"call_id": call_id, "stage": "features", "was": "queued"}]
    assert show_call(english, call_id)["status"] == "analysed"
    assert ps.reconcile(english).resent == []


def test_reconcile_command_reports_nothing_stuck_on_an_idle_platform(platform: Platform) -> None:
    result = CliRunner().invoke(reconcile, ["--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"resent": [], "dead_letters": []}


def test_a_transient_failure_is_retried_then_dead_lettered_with_the_last_error(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker configured with a model it does not have: retried (it may be fixed, or another
    # node may have it), then dead-lettered with the reason, never looping.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # eager retries wait in process: keep the backoff short
    s = replace(platform.settings, asr_model="large-v3-not-installed", task_retry_backoff_s=0.05)
    set_settings(s)
    plat = make_platform(s)
    call_id = ingest(plat, demo_stereo_wav(tmp_path, seconds=3))
    ps.enqueue_pending(plat)
    shown = show_call(plat, call_id)
    assert shown["status"] == "failed"
    assert "gave up after 3 attempts" in shown["error"]
    assert "ModelUnavailable" in shown["error"] and "large-v3-not-installed" in shown["error"]
    jobs = {j["stage"]: (j["status"], j["attempts"]) for j in shown["jobs"]}
    assert jobs["features"] == ("done", 1)
    assert jobs["transcribe"] == ("dead_letter", 3)
    assert [d["stage"] for d in ps.progress(plat).dead_letters] == ["transcribe"]


@pytest.mark.slow
def test_reconcile_takes_back_a_running_job_whose_worker_passed_its_deadline(
    english: Platform, tmp_path: Path
) -> None:
    call_id = ingest(english, demo_stereo_wav(tmp_path, seconds=4))
    ps.enqueue_pending(english, dispatch=lambda *_: None)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with english.uow() as uow:  # a worker claimed it, then died or hit the hard time limit
        key = jobs.JobKey(call_id, "features", PIPELINE_VERSION)
        assert jobs.claim(uow.session, key, "lost@host:1", long_ago, max_attempts=3).won
        uow.commit()
    report = ps.reconcile(english)
    assert report.resent == [{"call_id": call_id, "stage": "features", "was": "running"}]
    shown = show_call(english, call_id)
    assert shown["status"] == "analysed"
    assert {j["stage"]: j["attempts"] for j in shown["jobs"]}["features"] == 2


def test_call_show_before_processing_has_empty_pipeline_keys(
    platform: Platform, tmp_path: Path
) -> None:
    call_id = ingest(platform, demo_stereo_wav(tmp_path, seconds=3))
    shown = _show(call_id)
    assert shown["status"] == "ingested"
    assert (shown["segments"], shown["speakers"], shown["jobs"]) == ([], [], [])
    assert shown["features"] is None and shown["transcript_model"] is None
