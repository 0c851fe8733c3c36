"""The speech pipeline as plain data: stages, their order and queues, job statuses.

A call's analysis is a chain of stages; each stage is one Celery task and one row in the
``jobs`` table (the database, not the broker, is the source of truth):

``features`` (cpu: decode + audio features; checks the audio before it reaches a GPU)
→ ``transcribe`` (gpu: ASR, diarization, roles, PII masking)
→ ``flags`` (cpu: abnormal-call rules 异常监控) → ``autoqa`` (cpu: machine pre-score of the
scorecard 机器预评分) → ``finish`` (the call becomes ``analysed``).
A chat (网络对话) has no audio: its transcript is stored at ingest and it starts at ``flags``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

# Bump when a stage's output changes meaning; results are keyed by it, old rows stay.
PIPELINE_VERSION = "1"


class JobStatus(StrEnum):
    QUEUED = "queued"  # row exists; a message is sent (deadline set) or waits for its turn
    RUNNING = "running"  # claimed by a worker until ``deadline_at``
    DONE = "done"
    FAILED_TRANSIENT = "failed_transient"  # may be claimed again (retry, reconciler)
    FAILED = "failed"  # permanent: bad input, never retried
    DEAD_LETTER = "dead_letter"  # too many attempts; needs a person


CLAIMABLE = (JobStatus.QUEUED, JobStatus.FAILED_TRANSIENT)
FINAL = (JobStatus.DONE, JobStatus.FAILED, JobStatus.DEAD_LETTER)


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    task: str  # explicit, stable Celery task name (queued messages survive deploys)
    queue: str  # cpu | gpu


Dispatch = Callable[[Stage, int, str], None]
"""Send one stage of one call: ``dispatch(stage, call_id, pipeline_version)`` (ids only)."""


STAGES: tuple[Stage, ...] = (
    Stage("features", "qa.pipeline.features", "cpu"),
    Stage("transcribe", "qa.pipeline.transcribe", "gpu"),
    Stage("flags", "qa.pipeline.flags", "cpu"),
    Stage("autoqa", "qa.pipeline.autoqa", "cpu"),
    Stage("finish", "qa.pipeline.finish", "cpu"),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
#: Stages that read the recording: a chat (no audio) has them done from the start.
AUDIO_STAGES: tuple[str, ...] = ("features", "transcribe")
QUEUES: tuple[str, ...] = ("cpu", "gpu")


def stage(name: str) -> Stage:
    """The stage called ``name``; ``KeyError`` names the unknown stage."""
    for s in STAGES:
        if s.name == name:
            return s
    raise KeyError(f"unknown pipeline stage {name!r}; stages: {', '.join(STAGE_NAMES)}")


def next_stage(name: str) -> Stage | None:
    """The stage that runs after ``name`` (None after the last one)."""
    index = STAGE_NAMES.index(name)
    return STAGES[index + 1] if index + 1 < len(STAGES) else None


def previous_stage(name: str) -> Stage | None:
    index = STAGE_NAMES.index(name)
    return STAGES[index - 1] if index > 0 else None
