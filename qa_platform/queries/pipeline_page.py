"""The pipeline page's read model (处理进度): counts per stage and status, failed calls with
their reason and dead letters, limited to the calls the viewer may see (``scope_calls``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallStatus
from qa_platform.domain.pipeline import STAGE_NAMES, JobStatus
from qa_platform.services.access import scope_calls
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from qa_platform.services.pipeline import pipeline_version
from storage.models import Call, Job

JOB_STATUSES: tuple[str, ...] = tuple(str(s) for s in JobStatus)
CALL_STATUSES: tuple[str, ...] = tuple(str(s) for s in CallStatus)
LIST_LIMIT = 200  # failed calls and dead letters shown (the newest first)


@dataclass(frozen=True)
class FailedJob:
    """One failed or dead-lettered job of a call in scope."""

    call_id: int
    stage: str
    status: str  # failed | dead_letter
    attempts: int
    error: str
    original_filename: str | None
    updated_at: datetime | None


@dataclass
class PipelineOverview:
    version: str
    calls: dict[str, int]  # call status → count (every status, zero included)
    stages: dict[str, dict[str, int]]  # stage → job status → count
    failed: list[FailedJob] = field(default_factory=list)  # permanent failures (bad input)
    dead_letters: list[FailedJob] = field(default_factory=list)  # gave up after retries

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def pipeline_overview(platform: Platform, viewer: SessionUser) -> PipelineOverview:
    """What the pipeline page shows ``viewer`` (supervisors: their scope; admins: all)."""
    version = pipeline_version(platform.settings)
    with platform.uow() as uow:
        s = uow.session
        in_scope = scope_calls(s, viewer, select(Call.id)).scalar_subquery()
        calls = {status: 0 for status in CALL_STATUSES}
        rows = s.execute(
            scope_calls(s, viewer, select(Call.status, func.count()).group_by(Call.status))
        ).all()
        calls.update({str(status): int(n) for status, n in rows})
        stages = _stage_counts(s, version, in_scope)
        failed = _failed_jobs(s, version, in_scope, JobStatus.FAILED)
        dead = _failed_jobs(s, version, in_scope, JobStatus.DEAD_LETTER)
    return PipelineOverview(version, calls, stages, failed, dead)


def _stage_counts(
    s: Session, version: str, in_scope: ScalarSelect[int]
) -> dict[str, dict[str, int]]:
    stages = {name: {status: 0 for status in JOB_STATUSES} for name in STAGE_NAMES}
    rows = s.execute(
        select(Job.stage, Job.status, func.count())
        .where(Job.pipeline_version == version, Job.call_id.in_(in_scope))
        .group_by(Job.stage, Job.status)
    ).all()
    for stage_name, status, n in rows:
        stages.setdefault(stage_name, {})[str(status)] = int(n)
    return stages


def _failed_jobs(
    s: Session, version: str, in_scope: ScalarSelect[int], status: JobStatus
) -> list[FailedJob]:
    rows = s.execute(
        select(Job, Call.original_filename)
        .join(Call, Call.id == Job.call_id)
        .where(
            Job.pipeline_version == version,
            Job.status == str(status),
            Job.call_id.in_(in_scope),
        )
        .order_by(Job.updated_at.desc(), Job.id.desc())
        .limit(LIST_LIMIT)
    ).all()
    return [
        FailedJob(
            job.call_id,
            job.stage,
            str(job.status),
            int(job.attempts),
            job.error or "",
            name,
            job.updated_at,
        )
        for job, name in rows
    ]
