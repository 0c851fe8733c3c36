"""Who and what an ingested interaction belongs to: its agent (工号), team and external id.

Shared by the recording ingest and the chat ingest (one rule for both).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallMetadata
from qa_platform.domain.errors import Invalid
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
