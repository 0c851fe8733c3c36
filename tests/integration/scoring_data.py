"""Builders for scoring integration tests: people through the user service, calls as rows.

Calls are inserted as ORM rows (no audio): sampling, assignment and the workflow read only call
metadata, and ingesting real audio for hundreds of calls would test ingest, not scoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from qa_platform.services.context import Platform
from qa_platform.services.users import add_user
from storage.models import Call, CallFlag

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@dataclass
class People:
    supervisor: int
    supervisor_2: int
    inspectors: list[int]
    agents: list[int]
    teams: dict[int, int]  # user id -> team id


def make_people(platform: Platform, inspectors: int = 3, agents: int = 4) -> People:
    """Two supervisors, inspectors in teams A/B/C, agents alternating between teams A and B."""
    sup = add_user(platform, "sup1", "supervisor", password="x", password_policy=False).id
    sup2 = add_user(platform, "sup2", "supervisor", password="x", password_policy=False).id
    ins = [
        add_user(
            platform, f"ins{i}", "inspector", team="ABC"[i % 3], password="x", password_policy=False
        ).id
        for i in range(inspectors)
    ]
    ags = [
        add_user(
            platform,
            f"agent{i}",
            "agent",
            team="AB"[i % 2],
            agent_code=f"{1000 + i}",
            password="x",
            password_policy=False,
        ).id
        for i in range(agents)
    ]
    with platform.uow() as uow:
        from storage.models import User

        teams = {u.id: u.team_id for u in uow.session.query(User)}
    return People(sup, sup2, ins, ags, teams)


def make_calls(platform: Platform, people: People, n: int, flagged_every: int = 0) -> list[int]:
    """``n`` analysed calls spread over agents, business types and the first days of March."""
    ids = []
    with platform.uow() as uow:
        for i in range(n):
            agent = people.agents[i % len(people.agents)]
            call = Call(
                agent_id=agent,
                team_id=people.teams[agent],
                direction="in" if i % 3 else "out",
                business_type=("claims", "policy", "sales")[i % 3],
                started_at=T0 + timedelta(hours=5 * i),
                status="analysed" if i % 10 else "queued",
                duration_s=60.0 + i % 300,
                channels=2,
                sample_rate=8000,
                audio_format="wav",
                retain_until=T0 + timedelta(days=1100),
                created_at=T0,
                updated_at=T0,
            )
            uow.session.add(call)
            uow.session.flush()
            ids.append(call.id)
            if flagged_every and i % flagged_every == 0:
                uow.session.add(
                    CallFlag(
                        call_id=call.id,
                        type="abuse_agent" if i % 2 else "long_silence",
                        severity="high",
                        role="agent",
                        start=1.0,
                        end=2.0,
                        evidence="x",
                        rule_set_version="v1",
                        created_at=T0,
                    )
                )
        uow.commit()
    return ids
