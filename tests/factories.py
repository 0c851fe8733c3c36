"""Test data built through the platform's own services: people, teams, calls, flags, analysed
calls and evaluations. One module for the integration, web and end-to-end tests.

- People and teams come from the user service (``add_user`` creates a team on first use).
- Calls without audio are plain call rows: there is no service that creates a call without a
  recording, and sampling, assignment, the workflow and the reports read only call metadata
  (ingesting real audio for hundreds of calls would test ingest, not scoring). Calls with audio
  go through ``ingest_file``.
- Flags go through the flag service (``replace_flags``), transcripts through the pipeline
  service, evaluations through the scoring workflow commands.

Production code is imported by module (``from scoring import services as svc``) so that
moving a function inside a package does not break the builders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from qa_platform.demo_audio import write_audio
from qa_platform.domain.calls import CallMetadata
from qa_platform.domain.transcript import Flag, Role, Segment, Severity, Transcript
from qa_platform.services import flags as flag_service
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services import users as user_service
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from scoring import services as svc
from scoring.plan import PlanFilters, SamplingPlan
from scoring.scorecard import default_scorecard
from storage.models import Call, User

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
PASSWORD = "pw-" + "secret1"
# Full marks on the default scorecard: every item at its points, no red line crossed.
FULL = {i.code: (False if i.red_line else i.points) for i in default_scorecard().items}


# --------------------------------------------------------------------------- people
@dataclass
class People:
    supervisor: int
    supervisor_2: int
    inspectors: list[int]
    agents: list[int]
    teams: dict[int, int | None]  # user id -> team id


def add_person(
    platform: Platform,
    username: str,
    role: str,
    team: str | None = None,
    agent_code: str | None = None,
    password: str = PASSWORD,
) -> int:
    """One user (and their team, created on first use) through the user service."""
    return user_service.add_user(
        platform,
        username,
        role,
        team=team,
        agent_code=agent_code,
        password=password,
        display_name=username,
        password_policy=False,  # throwaway test people sign in with short passwords
    ).id


def team_of(platform: Platform, user_ids: Sequence[int]) -> dict[int, int | None]:
    """Team id of each user."""
    with platform.uow() as uow:
        rows = uow.session.scalars(select(User).where(User.id.in_(list(user_ids))))
        return {u.id: u.team_id for u in rows}


def make_people(
    platform: Platform, inspectors: int = 3, agents: int = 4, password: str = "x"
) -> People:
    """Two supervisors, inspectors in teams A/B/C, agents alternating between teams A and B
    (agent codes 1000, 1001, ...); everyone signs in with ``password``."""
    sup = add_person(platform, "sup1", "supervisor", password=password)
    sup2 = add_person(platform, "sup2", "supervisor", password=password)
    ins = [
        add_person(platform, f"ins{i}", "inspector", team="ABC"[i % 3], password=password)
        for i in range(inspectors)
    ]
    ags = [
        add_person(
            platform, f"agent{i}", "agent", "AB"[i % 2], agent_code=f"{1000 + i}", password=password
        )
        for i in range(agents)
    ]
    return People(sup, sup2, ins, ags, team_of(platform, [sup, sup2, *ins, *ags]))


# --------------------------------------------------------------------------- calls
def add_call(platform: Platform, agent_id: int, team_id: int | None, **fields: Any) -> int:
    """One call row with its metadata (no recording); ``fields`` override the defaults."""
    values: dict[str, Any] = {
        "business_type": "claims",
        "started_at": T0,
        "status": "analysed",
        "duration_s": 120.0,
        "channels": 2,
        "sample_rate": 8000,
        "audio_format": "wav",
        "retain_until": T0 + timedelta(days=1100),
        "created_at": T0,
        "updated_at": T0,
        **fields,
    }
    with platform.uow() as uow:
        call = Call(agent_id=agent_id, team_id=team_id, **values)
        uow.session.add(call)
        uow.commit()
        return int(call.id)


def flag(
    type_: str,
    severity: Severity = Severity.WARNING,
    role: Role = Role.UNKNOWN,
    start: float = 1.0,
    end: float = 2.0,
    evidence: str = "x",
    rule_set_version: str = "v1",
) -> Flag:
    """An abnormal-call flag as the rules would produce it."""
    return Flag(type_, severity, role, start, end, evidence, rule_set_version)


def set_flags(platform: Platform, flags_by_call: Mapping[int, Sequence[Flag]]) -> None:
    """Replace the flags of the given calls through the flag service."""
    with platform.uow() as uow:
        flag_service.replace_flags(uow.session, flags_by_call)
        uow.commit()


def make_calls(platform: Platform, people: People, n: int, flagged_every: int = 0) -> list[int]:
    """``n`` calls spread over agents, business types and the first days of March; every tenth
    is still queued, the rest analysed; every ``flagged_every``-th one carries a flag."""
    ids, flags = [], {}
    for i in range(n):
        agent = people.agents[i % len(people.agents)]
        call_id = add_call(
            platform,
            agent,
            people.teams[agent],
            direction="in" if i % 3 else "out",
            business_type=("claims", "policy", "sales")[i % 3],
            started_at=T0 + timedelta(hours=5 * i),
            status="analysed" if i % 10 else "queued",
            duration_s=60.0 + i % 300,
        )
        ids.append(call_id)
        if flagged_every and i % flagged_every == 0:
            kind = ("abuse_agent", Role.AGENT) if i % 2 else ("long_silence", Role.UNKNOWN)
            flags[call_id] = [flag(kind[0], Severity.CRITICAL, kind[1])]
    set_flags(platform, flags)
    return ids


def tone_wav(path: Path, seconds: float, freq: float, rate: int = 8000) -> Path:
    """A telephone-rate WAV of a slowly pulsing tone (no silences, no speech)."""
    t = np.arange(int(rate * seconds)) / rate
    audio = 0.3 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t))
    write_audio(path, audio.astype(np.float32), rate, "pcm_s16le")
    return path


STORY_LINES = [
    (0.0, 3.0, Role.AGENT, "您好，平安保险，工号1234，请问有什么可以帮您？"),
    (3.2, 6.5, Role.CUSTOMER, "我想查询一下我的保单理赔进度。"),
    (6.8, 10.0, Role.AGENT, "好的，请提供保单号后六位和身份证后四位。"),
    (10.5, 14.0, Role.CUSTOMER, "保单号后六位是＊＊＊＊＊＊。"),
    (14.5, 19.5, Role.AGENT, "感谢您的来电，祝您生活愉快，再见。"),
]
STORY_FLAG = flag(
    "long_silence", Severity.WARNING, Role.UNKNOWN, 9.9, 10.5, "静音 0.5 秒", "2026.11-1"
)


def analyse_call(platform: Platform, call_id: int, flags: Sequence[Flag] = (STORY_FLAG,)) -> None:
    """Give an ingested call the story's transcript and flags and mark it analysed, through the
    pipeline and flag services (what the speech pipeline would have written)."""
    segments = [
        Segment("S0" if r is Role.AGENT else "S1", r, a, b, text) for a, b, r, text in STORY_LINES
    ]
    with platform.uow() as uow:
        pipeline_service.save_transcript(
            uow.session,
            call_id,
            transcript=Transcript(segments, "zh", "demo"),
            model="demo",
            model_version="demo-1",
            version="demo",
        )
        pipeline_service.mark_analysed(uow.session, call_id)
        flag_service.replace_flags(uow.session, {call_id: list(flags)})
        uow.commit()


# --------------------------------------------------------------------------- evaluations
def sample_and_assign(
    platform: Platform,
    plan: SamplingPlan | None = None,
    seed: int = 1,
    actor: int | str = "sup1",
    **assign: Any,
) -> list[dict[str, Any]]:
    """Run a sampling plan (default: one call from every analysed call), assign its calls;
    returns the platform's evaluations."""
    plan = plan or SamplingPlan("p", size=1, filters=PlanFilters())
    run = svc.run_sampling(platform.uow(), plan, seed=seed)
    svc.assign_run(platform.uow(), run["run_id"], actor=actor, **assign)
    return list(svc.list_evaluations(platform.uow()))


def evaluation_on_new_call(
    platform: Platform, agent_id: int, inspector_id: int, supervisor: int | str, day: date
) -> int:
    """A new analysed call of ``agent_id`` on ``day`` (01:00 UTC), sampled alone in the random
    stream and assigned to ``inspector_id``; returns the evaluation id (state ``assigned``)."""
    team_id = team_of(platform, [agent_id])[agent_id]
    started = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)
    call_id = add_call(platform, agent_id, team_id, started_at=started)
    only = PlanFilters(period_start=day, period_end=day, agent_ids=(agent_id,))
    run = svc.run_sampling(
        platform.uow(), SamplingPlan(f"call-{call_id}", size=1, filters=only), seed=1
    )
    svc.assign_run(platform.uow(), run["run_id"], actor=supervisor, inspector_ids=[inspector_id])
    (ev,) = [e for e in svc.list_evaluations(platform.uow()) if e["call_id"] == call_id]
    return int(ev["evaluation_id"])


def publish_scored(
    platform: Platform,
    evaluation_id: int,
    inspector: int | str,
    supervisor: int | str,
    scores: Mapping[str, Any] = FULL,
    at: datetime | None = None,
    published_at: datetime | None = None,
) -> None:
    """Score, submit, approve and publish one evaluation through the workflow commands."""
    u = platform.uow
    svc.start_evaluation(u(), evaluation_id, inspector, at=at)
    svc.save_scores(u(), evaluation_id, inspector, scores, at=at)
    svc.submit_evaluation(u(), evaluation_id, inspector, at=at)
    svc.approve_evaluation(u(), evaluation_id, supervisor, at=at)
    svc.publish_evaluation(u(), evaluation_id, supervisor, at=published_at or at)


# --------------------------------------------------------------------------- story world
STORY_USERS = [  # username, role, team, agent code
    ("admin", "admin", None, None),
    ("sup", "supervisor", None, None),
    ("sup2", "supervisor", None, None),
    ("insp", "inspector", "质检组", None),
    ("insp2", "inspector", "质检组", None),
    ("agent", "agent", "一组", "A001"),
    ("agent2", "agent", "二组", "A002"),
    ("teamsup", "supervisor", "二组", None),
]


@dataclass
class StoryWorld:
    ids: dict[str, int]
    call_id: int
    other_call_id: int
    evaluation_id: int
    audio_path: Path


def build_story_world(platform: Platform, tmp: Path) -> StoryWorld:
    """The story's world: users of every role, two real analysed calls (agents A001 and A002),
    and a random sample of agent A001's call assigned to the first inspector."""
    ids = {u: add_person(platform, u, role, team, code) for u, role, team, code in STORY_USERS}
    started = datetime.now(UTC) - timedelta(days=1)
    call_ids = []
    for n, (code, team) in enumerate((("A001", "一组"), ("A002", "二组"))):
        wav = tone_wav(tmp / f"call{n}.wav", 20.0, 220.0 + 110 * n)
        res = ingest_file(
            platform,
            wav,
            CallMetadata(agent_code=code, team=team, started_at=started, business_type="理赔查询"),
        )
        assert res.call_id is not None, res.error
        analyse_call(platform, res.call_id)
        call_ids.append(res.call_id)
    svc.ensure_scorecard(platform.uow())
    plan = {
        "name": "story",
        "stream": "random",
        "method": "simple_random",
        "size": 1,
        "filters": {"agent_ids": [ids["agent"]]},
    }
    svc.save_plan(platform.uow(), plan, actor=ids["sup"])
    run = svc.run_sampling(platform.uow(), "story", seed=7, actor=ids["sup"])
    assigned = svc.assign_run(
        platform.uow(), run["run_id"], actor=ids["sup"], inspector_ids=[ids["insp"]]
    )
    assert assigned["assigned"], assigned
    evaluation_id = svc.list_evaluations(platform.uow(), inspector=ids["insp"])[0]["evaluation_id"]
    return StoryWorld(ids, call_ids[0], call_ids[1], evaluation_id, tmp / "call0.wav")


# --------------------------------------------------------------------------- report world
DAY = date(2026, 3, 2)  # the report world's Monday
PUBLISHED = T0 + timedelta(days=1)  # Tuesday
DURING_WINDOW = PUBLISHED + timedelta(hours=2)
AFTER_WINDOWS = T0 + timedelta(days=10)


def build_report_world(platform: Platform) -> tuple[Platform, People, list[dict[str, Any]]]:
    """Six analysed calls on Monday 2026-03-02 (Shanghai), all sampled in the random stream,
    scored, approved and published on Tuesday; three of them lost points on answer_accuracy (a
    business-accuracy item); the first carries a long-silence flag."""
    people = make_people(platform)
    call_ids = [
        add_call(
            platform,
            people.agents[i % 2],
            people.teams[people.agents[i % 2]],
            business_type="理赔",
            started_at=T0 + timedelta(minutes=10 * i),
            satisfaction=5 - i % 3,
        )
        for i in range(6)
    ]
    silence = flag("long_silence", Severity.INFO, Role.UNKNOWN, 1.0, 9.0, "8 s", "rules-v1")
    set_flags(platform, {call_ids[0]: [silence]})
    plan = SamplingPlan("daily", size=6, filters=PlanFilters(analysed_only=True))
    evaluations = sample_and_assign(platform, plan, seed=7, exclude_own_team=False)
    for n, ev in enumerate(evaluations):
        scores = FULL if n % 2 else {**FULL, "answer_accuracy": 10}  # 3 with a business error
        publish_scored(
            platform, ev["evaluation_id"], ev["inspector_id"], "sup1", scores, T0, PUBLISHED
        )
    return platform, people, evaluations
