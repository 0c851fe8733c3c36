"""Who and what an ingested interaction belongs to: its agent (工号), team and external id.

Shared by the recording ingest and the chat ingest (one rule for both).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallMetadata, CallStatus, mask_phone
from qa_platform.domain.errors import Invalid
from qa_platform.retention import format_classes
from qa_platform.services.context import Platform
from qa_platform.services.users import ensure_team
from storage.models import Call, Team, User


class IngestRejected(Invalid):
    """The file or its metadata is unacceptable; the message says why."""


def check_external_id(platform: Platform, meta: CallMetadata, name: str) -> None:
    if not meta.external_id:
        return
    with platform.uow() as uow:
        other = uow.session.scalar(select(Call.id).where(Call.external_id == meta.external_id))
    if other is not None:
        raise IngestRejected(
            f"{name}: external id {meta.external_id!r} is already used by "
            f"call {other} with different audio"
        )


def resolve_people(
    session: Session,
    meta: CallMetadata,
    strict: bool,
    name: str,
) -> tuple[User | None, Team | None]:
    agent = None
    if meta.agent_code:
        agent = session.scalar(select(User).where(User.agent_code == meta.agent_code))
        if agent is None and strict:
            raise IngestRejected(f"{name}: unknown agent {meta.agent_code!r} (strict mode)")
    team = None
    if meta.team:
        known = session.scalar(select(Team).where(Team.name == meta.team))
        if known is None and strict:
            raise IngestRejected(f"{name}: unknown team {meta.team!r} (strict mode)")
        team = known or ensure_team(session, meta.team)
    return agent, team


def new_call_row(
    platform: Platform,
    meta: CallMetadata,
    people: tuple[User | None, Team | None],
    started: datetime,
    name: str,
    **kind: Any,
) -> Call:
    """The ``calls`` row of a new interaction (recording or chat): its metadata, people,
    retention (3 years, 5 with a complaint) and times; ``kind`` holds what differs (duration,
    channels, format, channel)."""
    agent, team = people
    now = platform.clock.now()
    classes = {"standard", "complaint"} if meta.complaint else {"standard"}
    return Call(
        external_id=meta.external_id,
        agent_code=meta.agent_code,
        agent_id=agent.id if agent else None,
        team_id=team.id if team else (agent.team_id if agent else None),
        direction=str(meta.direction),
        business_type=meta.business_type,
        started_at=started,
        customer_phone_masked=mask_phone(meta.customer_phone),
        satisfaction=meta.satisfaction,
        status=str(CallStatus.INGESTED),
        original_filename=Path(name).name[:255],
        retention_class=format_classes(classes),
        retain_until=platform.retention_rules.retain_until(started, classes),
        legal_hold=False,
        created_at=now,
        updated_at=now,
        **kind,
    )
