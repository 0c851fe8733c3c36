"""What every scoring use case shares: who acts, the audit helper, the centre's time zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.domain.errors import Conflict
from scoring.assignment import AssignmentError
from scoring.workflow import Actor, ActorRole, State
from storage.audit import append_audit
from storage.models import User
from storage.repositories.errors import ConcurrentUpdateError, NotFoundError
from storage.uow import UnitOfWork

__all__ = [
    "OPEN_STATES",
    "ConcurrentUpdateError",
    "NotFoundError",
    "StaleForm",
    "actor_for",
    "audit",
    "centre_timezone",
    "load_user",
    "require_supervisor",
    "resolve_user_id",
]

OPEN_STATES = (State.ASSIGNED, State.DRAFT, State.RETURNED)


class StaleForm(Conflict):
    """The form was rendered from an older version of the evaluation; nothing was saved."""


def centre_timezone(uow: UnitOfWork) -> ZoneInfo:
    """Local time zone of the centre: period dates and working days are counted in it."""
    return ZoneInfo(uow.settings.centre_timezone)


def actor_for(session: Session, user: int | str) -> Actor:
    """Load a user (id or username) as a workflow actor with the role stored in the database."""
    row = load_user(session, user)
    return Actor(row.id, ActorRole(row.role))


def load_user(session: Session, user: int | str) -> User:
    """The active user with that id or username; ``NotFoundError`` otherwise."""
    if isinstance(user, int) or str(user).isdigit():
        row = session.get(User, int(user))
    else:
        row = session.scalar(select(User).where(User.username == str(user)))
    if row is None or not row.active:
        raise NotFoundError(f"no active user {user!r}")
    return row


def resolve_user_id(uow: UnitOfWork, user: int | str) -> int:
    """User id for an id or username (CLI helper)."""
    with uow:
        return load_user(uow.session, user).id


def require_supervisor(actor: Actor, what: str) -> None:
    """Only a supervisor (or admin) may plan, assign and calibrate."""
    if actor.role not in (ActorRole.SUPERVISOR, ActorRole.ADMIN):
        raise AssignmentError(
            f"only a supervisor may {what} (user {actor.user_id} is {actor.role})"
        )


def audit(
    session: Session,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: Any,
    details: Mapping[str, Any],
    at: datetime | None = None,
) -> None:
    """One audit event in the caller's transaction (``system`` when no user acts)."""
    append_audit(
        session,
        actor=f"user:{actor_id}" if actor_id else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=dict(details),
        at=at,
    )
