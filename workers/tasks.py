"""Thin Celery tasks for the pipeline stages: claim → compute → upsert → release.

Each task takes ids only (``call_id``, ``pipeline_version``; new keyword arguments may only be
appended), has an explicit stable name, and is safe to run twice: the job row is claimed with a
conditional UPDATE and the result is upserted under its unique key in the same transaction
that marks the job done. Transient errors (database, storage, ``TransientError``) retry with
exponential backoff and jitter; bad input (``BadAudio``) fails the call and never retries.
The decrypted audio exists only in a temp file for the duration of the computation.
"""

from __future__ import annotations

import logging
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from qa_platform import logs
from qa_platform.domain.pipeline import STAGES
from qa_platform.services import emotion as emotion_service
from qa_platform.services import flags as flag_service
from qa_platform.services import media as media_service
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services.context import Platform
from qa_platform.services.recordings import (
    RecordingUnavailable,
    plaintext_tempfile,
    recording_blob_id,
)
from qa_platform.settings import Settings, get_settings
from scoring.services import autoqa as autoqa_service
from storage.blobs import BlobNotFound
from storage.crypto import BlobIntegrityError
from storage.models import Call
from workers import jobs, runtime
from workers.celery_app import app_dispatcher
from workers.errors import BadAudio, ModelUnavailable, TransientError

log = logging.getLogger(__name__)

TRANSIENT = (
    TransientError,
    OperationalError,
    IntegrityError,
    SoftTimeLimitExceeded,
    ModelUnavailable,
)
# Bad input, and a stored recording that is damaged or gone: retrying cannot help.
PERMANENT = (BadAudio, RecordingUnavailable, BlobIntegrityError, BlobNotFound)
DEADLINE_GRACE_S = 30
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0


@dataclass(frozen=True, slots=True)
class StageWork:
    """What a stage computes (outside any transaction) and how it saves (inside one)."""

    compute: Callable[[Platform, int], Any]
    save: Callable[[Session, int, str, Any], None]


# --------------------------------------------------------------------------- stage bodies
def _call_audio_info(platform: Platform, call_id: int) -> int:
    with platform.uow() as uow:
        agent_channel = uow.session.scalar(select(Call.agent_channel).where(Call.id == call_id))
    return platform.settings.agent_channel if agent_channel is None else int(agent_channel)


@dataclass(frozen=True)
class FeaturesWork:
    """What the features stage measured: the audio features and the player's waveform."""

    features: Any
    blob_id: str
    peaks: list[float]


def compute_features_stage(platform: Platform, call_id: int) -> FeaturesWork:
    """Decode (checks the audio on the cpu queue before any GPU sees it) and measure it; the
    waveform peaks are drawn from the same decrypted file, once, so that the web node never
    decodes a recording to draw it."""
    from workers.audio import decode
    from workers.features import compute_features

    agent_channel = _call_audio_info(platform, call_id)
    blob_id = recording_blob_id(platform, call_id)
    with plaintext_tempfile(platform, call_id) as path:
        audio = decode(path, max_duration_s=platform.settings.max_duration_s)
        peaks = media_service.stream_peaks(str(path))
    return FeaturesWork(compute_features(audio, agent_channel=agent_channel), blob_id, peaks)


def save_features_stage(session: Session, call_id: int, version: str, work: Any) -> None:
    pipeline_service.save_features(session, call_id, version, work.features)
    if work.peaks:
        media_service.save_waveform(session, call_id, work.blob_id, work.peaks)


def compute_transcribe_stage(platform: Platform, call_id: int) -> Any:
    """ASR, diarization, roles and PII masking (text is masked before it is returned)."""
    from workers.pipeline import analyse_audio

    settings = platform.settings
    agent_channel = _call_audio_info(platform, call_id)
    with plaintext_tempfile(platform, call_id) as path:
        return analyse_audio(
            path,
            settings=settings,
            agent_channel=agent_channel,
            transcriber=runtime.transcriber(settings),
            diarizer=runtime.mono_diarizer(settings),
        )


def save_transcribe_stage(session: Session, call_id: int, version: str, result: Any) -> None:
    transcript_id = pipeline_service.save_transcript(
        session,
        call_id,
        transcript=result.transcript,
        model=result.model,
        model_version=result.model_version,
        version=version,
        speakers=result.speakers,
    )
    # Features computed with the speaker turns: talk time per role also for mono calls.
    pipeline_service.save_features(session, call_id, version, result.features)
    # Customer emotion per segment, keyed by the transcript it scores (same transaction).
    emotion_service.save_emotion(session, call_id, transcript_id, result.emotion)


def run_flag_rules(platform: Platform, call_id: int) -> Any:
    """The abnormal-call rules (异常监控); the flags service stores the call's flags itself."""
    return flag_service.compute_flags(platform, call_id)


def run_auto_qa(platform: Platform, call_id: int) -> Any:
    """Auto evaluation (机器预评分) from the stored flags; the service upserts its row itself."""
    return autoqa_service.evaluate_call(platform, call_id)


def _nothing_to_save(session: Session, call_id: int, version: str, result: Any) -> None:
    return None


def _finish_save(session: Session, call_id: int, version: str, result: Any) -> None:
    pipeline_service.mark_analysed(session, call_id)


STAGE_WORK: dict[str, StageWork] = {
    "features": StageWork(compute_features_stage, save_features_stage),
    "transcribe": StageWork(compute_transcribe_stage, save_transcribe_stage),
    "flags": StageWork(run_flag_rules, _nothing_to_save),
    "autoqa": StageWork(run_auto_qa, _nothing_to_save),
    "finish": StageWork(lambda _p, _c: None, _finish_save),
}


# --------------------------------------------------------------------------- the runner
def retry_countdown(
    attempt: int, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S
) -> float:
    """Exponential backoff with jitter: between half and all of base·2^(attempt-1), capped."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return round(random.uniform(ceiling / 2, ceiling), 3)


def _worker_id(task: Task) -> str:
    host = task.request.hostname or socket.gethostname()
    return jobs.worker_token(task.request.id or "eager", f"{host}:{os.getpid()}")


def run_stage(task: Task, stage_name: str, call_id: int, version: str, work: StageWork) -> str:
    """claim → compute → upsert + release (one transaction) → send the next stage."""
    settings: Settings = get_settings()
    platform = runtime.platform(settings)
    key = jobs.JobKey(call_id, stage_name, version)
    logs.bind(call_id=call_id, job_id=f"{call_id}/{stage_name}/{version}")
    try:
        claim = _claim(platform, key, task)
    except OperationalError as exc:  # database unreachable: the message comes back later
        raise task.retry(exc=exc, countdown=retry_countdown(task.request.retries + 1)) from exc
    if not claim.won:
        log.info(
            "call %s stage %s not run: %s (%s)", call_id, stage_name, claim.outcome, claim.reason
        )
        return str(claim.outcome)
    try:
        result = work.compute(platform, call_id)
        with platform.uow() as uow:
            work.save(uow.session, call_id, version, result)
            jobs.complete(uow.session, key)
            uow.commit()
    except PERMANENT as exc:
        return _fail(platform, key, f"{stage_name}: {exc}")
    except TRANSIENT as exc:
        _release_transient(platform, key, f"{type(exc).__name__}: {exc}")
        countdown = retry_countdown(claim.attempts, settings.task_retry_backoff_s)
        raise task.retry(
            exc=exc, countdown=countdown, max_retries=settings.job_max_attempts
        ) from exc
    except Exception as exc:  # a bug: fail loudly, never loop on it
        log.exception("call %s stage %s crashed", call_id, stage_name)
        return _fail(platform, key, f"{stage_name} crashed: {type(exc).__name__}: {exc}")
    pipeline_service.advance(platform, call_id, stage_name, version, app_dispatcher(task.app))
    return "done"


def _claim(platform: Platform, key: jobs.JobKey, task: Task) -> jobs.Claim:
    settings = platform.settings
    now = jobs.utcnow()
    deadline = now + timedelta(seconds=settings.task_hard_time_limit_s + DEADLINE_GRACE_S)
    with platform.uow() as uow:
        claim = jobs.claim(
            uow.session,
            key,
            _worker_id(task),
            deadline,
            max_attempts=settings.job_max_attempts,
            delivery_id=task.request.id,
            now=now,
        )
        uow.commit()
    return claim


def _fail(platform: Platform, key: jobs.JobKey, error: str) -> str:
    log.warning("call %s failed permanently: %s", key.call_id, error)
    with platform.uow() as uow:
        jobs.fail_permanent(uow.session, key, error)
        uow.commit()
    return "failed"


def _release_transient(platform: Platform, key: jobs.JobKey, error: str) -> None:
    log.warning("call %s stage %s transient failure: %s", key.call_id, key.stage, error)
    try:
        with platform.uow() as uow:
            jobs.fail_transient(uow.session, key, error)
            uow.commit()
    except OperationalError:  # the database itself is down: the deadline will free the row
        log.exception("call %s: could not record the transient failure", key.call_id)


# --------------------------------------------------------------------------- registration
def _make_task(stage_name: str) -> Callable[..., str]:
    work = STAGE_WORK[stage_name]

    def stage_task(self: Task, call_id: int, pipeline_version: str, **_later_kwargs: Any) -> str:
        return run_stage(self, stage_name, int(call_id), str(pipeline_version), work)

    stage_task.__name__ = f"{stage_name}_task"
    stage_task.__doc__ = f"Pipeline stage {stage_name!r} of one call (ids only)."
    return stage_task


def register_tasks(app: Celery) -> None:
    """Register one task per pipeline stage on ``app`` under its stable name and queue."""
    for s in STAGES:
        app.task(
            _make_task(s.name),
            name=s.task,
            bind=True,
            shared=False,
            acks_late=True,
            reject_on_worker_lost=True,
            ignore_result=True,
        )
