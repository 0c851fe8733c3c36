"""The main job on the embedded default, end to end on real speech.

Set up ``QA_HOME``, create the demo people (passwords generated once, kept in a 0600 file and
printed), build demo recordings from the real telephone conversation in the pyannote.audio
wheel, ingest them encrypted, run the speech pipeline and the flags eagerly, draw a random
sample and a targeted (flagged) sample, and assign both to inspectors. Idempotent: running it
again reuses what exists.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from qa_platform.demo_audio import DEMO_CALLS, build_demo_calls
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services.bootstrap import initialise
from qa_platform.services.context import Platform
from qa_platform.services.ingest import IngestResult, ingest_many, read_manifest
from qa_platform.services.users import add_user
from qa_platform.settings import set_settings
from storage.models import User

SUPERVISOR = "zhuguan"
INSPECTORS = ("zhijian1", "zhijian2")
STAFF = [  # username, role, team, display name
    ("admin", "admin", None, "系统管理员"),
    (SUPERVISOR, "supervisor", "质检组", "质检主管"),
    (INSPECTORS[0], "inspector", "质检组", "质检员一"),
    (INSPECTORS[1], "inspector", "质检组", "质检员二"),
]


@dataclass
class DemoReport:
    ingested: list[IngestResult]
    credentials: dict[str, str]
    analysed: list[int] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)


def _credentials_file(platform: Platform) -> Path:
    return Path(platform.settings.home) / "demo" / "credentials.json"


def ensure_demo_people(platform: Platform) -> dict[str, str]:
    """Staff and agent accounts (idempotent); returns username → password for the demo."""
    path = _credentials_file(platform)
    known = json.loads(path.read_text()) if path.exists() else {}
    with platform.uow() as uow:
        existing = set(uow.session.scalars(select(User.username)).all())
    people = STAFF + [
        (f"agent_{row[1].lower()}", "agent", row[2], f"客服{row[1]}") for row in DEMO_CALLS
    ]
    for username, role, team, name in people:
        if username in existing:
            continue
        code = username.removeprefix("agent_").upper() if role == "agent" else None
        user = add_user(
            platform, username, role, team=team, agent_code=code, display_name=name, actor="demo"
        )
        known[username] = user.password
    _save_private(path, known)
    return known


def _save_private(path: Path, data: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)


def _demo_samples(platform: Platform) -> list[dict[str, Any]]:
    """A random sample (feeds KPIs) and a targeted one (flagged calls), both assigned."""
    from scoring import services as scoring
    from scoring.plan import PlanFilters, SamplingPlan
    from scoring.sampling import Method, Stream

    period = PlanFilters(period_start=date(2026, 11, 20), period_end=date(2026, 11, 30))
    plans = [
        SamplingPlan(
            name="demo-random",
            stream=Stream.RANDOM,
            method=Method.SIMPLE_RANDOM,
            filters=period,
            size=2,
        ),
        SamplingPlan(
            name="demo-targeted",
            stream=Stream.TARGETED,
            method=Method.TARGETED,
            filters=period,
            flag_types=("long_silence", "ultra_short", "missing_greeting", "abuse_agent"),
        ),
    ]
    runs = []
    for plan in plans:
        run = scoring.run_sampling(platform.uow(), plan, seed=20261125, actor=SUPERVISOR)
        scoring.assign_run(platform.uow(), run["run_id"], actor=SUPERVISOR)
        runs.append(run)
    return runs


def run_demo(platform: Platform) -> DemoReport:
    initialise(platform)
    if "QA_ASR_LANGUAGE" not in os.environ:
        # the demo speech is the English pyannote sample; real centres keep the zh default
        platform.settings = replace(platform.settings, asr_language="auto")
        set_settings(platform.settings)  # the eager tasks read the process-wide settings
    credentials = ensure_demo_people(platform)
    manifest = build_demo_calls(Path(platform.settings.home) / "demo")
    report = DemoReport(ingest_many(platform, read_manifest(manifest), actor="demo"), credentials)
    report.analysed = pipeline_service.enqueue_pending(platform)
    if not _already_sampled(platform):
        report.samples = _demo_samples(platform)
    return report


def _already_sampled(platform: Platform) -> bool:
    from storage.models_scoring import SamplingRunRow

    with platform.uow() as uow:
        return uow.session.scalar(select(SamplingRunRow.id).limit(1)) is not None
