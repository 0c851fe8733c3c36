"""The main job on the embedded default, end to end on real speech.

Set up ``QA_HOME``, create the demo people (passwords generated once, kept in a 0600 file and
printed; the supervisor oversees the demo's agent teams), build demo recordings from the real telephone conversation in the pyannote.audio
wheel, ingest them encrypted, run the speech pipeline and the flags eagerly, draw a random
sample and a targeted (flagged) sample, and assign both to inspectors. Idempotent: running it
again reuses what exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from qa_platform.demo_audio import DEMO_CALLS, build_demo_calls
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services.bootstrap import initialise
from qa_platform.services.context import Platform
from qa_platform.services.demo_history import HistoryReport, generate_history
from qa_platform.services.ingest import IngestResult, ingest_many, read_manifest
from qa_platform.services.users import add_user, set_scope
from qa_platform.settings import set_settings
from storage.models import Call, User

SUPERVISOR = "zhuguan"
INSPECTORS = ("zhijian1", "zhijian2", "zhijian3")
HISTORY_SEED = 20261125
STAFF = [  # username, role, team, display name
    ("admin", "admin", None, "系统管理员"),
    (SUPERVISOR, "supervisor", "质检组", "质检主管"),
    (INSPECTORS[0], "inspector", "质检组", "质检员一"),
    (INSPECTORS[1], "inspector", "质检组", "质检员二"),
    (INSPECTORS[2], "inspector", "质检组", "质检员三"),
]


@dataclass
class DemoReport:
    ingested: list[IngestResult]
    credentials: dict[str, str]
    analysed: list[int] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    history: HistoryReport | None = None


def credentials_file(platform: Platform) -> Path:
    """Where the demo keeps its people's passwords (mode 0600): user name → password."""
    return Path(platform.settings.home) / "demo" / "credentials.json"


def ensure_demo_people(
    platform: Platform, agents: Iterable[tuple[str, str]] | None = None
) -> dict[str, str]:
    """Staff and agent accounts (idempotent); returns username → password for the demo.

    ``agents`` are (agent code, team) pairs; default: the agents of the English sample calls.
    """
    path = credentials_file(platform)
    known = json.loads(path.read_text()) if path.exists() else {}
    with platform.uow() as uow:
        existing = set(uow.session.scalars(select(User.username)).all())
    pairs = dict(agents if agents is not None else ((row[1], row[2]) for row in DEMO_CALLS))
    people = STAFF + [
        (f"agent_{code.lower()}", "agent", team, f"客服{code}") for code, team in pairs.items()
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
    _scope_demo_supervisor(platform, pairs.values())
    return known


def _scope_demo_supervisor(platform: Platform, teams: Iterable[str]) -> None:
    """The demo supervisor (in the QA team 质检组) oversees the demo's agent teams."""
    agent_teams = sorted({t for t in teams if t})
    if agent_teams:
        set_scope(platform, SUPERVISOR, agent_teams, actor="demo")


def _save_private(path: Path, data: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)


def demo_samples(platform: Platform, first: date, last: date) -> list[dict[str, Any]]:
    """A random sample (feeds KPIs) and a targeted one (flagged calls), both assigned."""
    from scoring import services as scoring
    from scoring.plan import PlanFilters, SamplingPlan
    from scoring.sampling import Method, Stream

    period = PlanFilters(period_start=first, period_end=last)
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
            flag_types=(
                "long_silence",
                "ultra_short",
                "missing_greeting",
                "missing_agent_id",
                "missing_identity_check",
                "abuse_agent",
                "complaint_risk",
                "misleading_promise",
            ),
        ),
    ]
    runs = []
    for plan in plans:
        run = scoring.run_sampling(platform.uow(), plan, seed=20261125, actor=SUPERVISOR)
        scoring.assign_run(platform.uow(), run["run_id"], actor=SUPERVISOR)
        runs.append(run)
    return runs


def run_demo(
    platform: Platform, manifest: Path | None = None, history_seed: int | None = HISTORY_SEED
) -> DemoReport:
    """The demo: with ``manifest`` the Mandarin calls it lists (``make demo`` builds them from
    the project's Mandarin corpus); without, the English sample of the pyannote wheel. With
    ``history_seed`` (None: none) eight weeks of generated history and their report snapshots
    are added (``qa_platform.services.demo_history``)."""
    initialise(platform)
    if manifest is None and "QA_ASR_LANGUAGE" not in os.environ:
        # the English pyannote sample: detect the language (a centre keeps the zh default)
        platform.settings = replace(platform.settings, asr_language="auto")
        set_settings(platform.settings)  # the eager tasks read the process-wide settings
    if manifest is None:
        manifest = build_demo_calls(Path(platform.settings.home) / "demo")
    items = list(read_manifest(manifest))
    agents = [(m.agent_code, m.team or "") for i in items if (m := i.metadata) and m.agent_code]
    credentials = ensure_demo_people(platform, agents)
    report = DemoReport(ingest_many(platform, items, actor="demo"), credentials)
    report.analysed = pipeline_service.enqueue_pending(platform)
    if not _already_sampled(platform):
        report.samples = demo_samples(platform, *_call_dates(platform))
    if history_seed is not None:
        report.history = generate_history(platform, history_seed, SUPERVISOR)
    return report


def _call_dates(platform: Platform) -> tuple[date, date]:
    """First and last day (centre time) of the stored calls: the demo's sampling period."""
    zone = ZoneInfo(platform.settings.centre_timezone)
    with platform.uow() as uow:
        first, last = uow.session.execute(
            select(func.min(Call.started_at), func.max(Call.started_at))
        ).one()
    today = platform.clock.now().astimezone(zone).date()
    if first is None:
        return today, today
    return first.astimezone(zone).date(), last.astimezone(zone).date()


def _already_sampled(platform: Platform) -> bool:
    from storage.models_scoring import SamplingRunRow

    with platform.uow() as uow:
        return uow.session.scalar(select(SamplingRunRow.id).limit(1)) is not None
