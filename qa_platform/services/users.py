"""People: teams and users with roles; passwords hashed with argon2; admin changes (audited)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from qa_platform.domain.calls import UserRole
from qa_platform.domain.errors import Invalid
from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.models import Team, User

_hasher = PasswordHasher()


class UserError(Invalid):
    """A user cannot be created or changed as asked."""


@dataclass(frozen=True)
class NewUser:
    id: int
    username: str
    role: str
    team: str | None
    agent_code: str | None
    password: str | None  # only when generated here, to show once


MIN_PASSWORD_LENGTH = 10
# Field bounds (字段限制): the column widths of ``storage.models.User``/``Team``, and a password
# long enough for any passphrase yet bounded. Label: the field's Chinese name in messages.
FIELD_LIMITS: dict[str, tuple[int, str]] = {
    "username": (64, "用户名"),
    "display_name": (100, "显示名称"),
    "team": (100, "班组"),
    "agent_code": (32, "工号"),
    "password": (256, "密码"),
}
_PATTERNS = {"username": re.compile(r"[\w.@-]+"), "agent_code": re.compile(r"[A-Za-z0-9_-]+")}


def check_user_fields(**values: str | None) -> None:
    """Refuse a user field that is too long, holds a NUL or other control character, or (user
    name, agent code) has characters outside its set; the message names the field."""
    for field, value in values.items():
        if not value:
            continue
        limit, label = FIELD_LIMITS[field]
        if len(value) > limit:
            raise UserError.of(
                "user.field_too_long", field=field, label=label, limit=limit, length=len(value)
            )
        if any(not ch.isprintable() for ch in value):
            raise UserError.of("user.field_control", field=field, label=label)
        pattern = _PATTERNS.get(field)
        if pattern is not None and not pattern.fullmatch(value):
            raise UserError.of("user.field_charset", field=field, label=label)


def check_password_policy(username: str, password: str) -> None:
    """At least 10 characters, not only digits, not the username (any case)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if password.isdigit():
        raise UserError("the password must not be only digits")
    if password.strip().lower() == username.strip().lower():
        raise UserError("the password must not be the username")


def bump_session_epoch(session: Session, user_id: int) -> None:
    """End the user's sessions (their cookies carry the old epoch), in the caller's transaction."""
    session.execute(
        update(User).where(User.id == user_id).values(session_epoch=User.session_epoch + 1)
    )


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count(User.id)).where(
                User.role == str(UserRole.ADMIN), User.active.is_(True)
            )
        )
        or 0
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except VerificationError:
        return False


def add_user(
    platform: Platform,
    username: str,
    role: str,
    *,
    team: str | None = None,
    agent_code: str | None = None,
    password: str | None = None,
    display_name: str = "",
    actor: str = "cli",
    password_policy: bool = True,
) -> NewUser:
    """Create a user (and the team if new); a password is generated when none is given.

    A given password must pass ``check_password_policy``; ``password_policy=False`` is for
    throw-away fixtures only.
    """
    try:
        role = str(UserRole(role))
    except ValueError:
        raise UserError(f"role {role!r} must be one of {[r.value for r in UserRole]}") from None
    if role == UserRole.AGENT and not agent_code:
        raise UserError("an agent needs an agent code (工号): --agent-code")
    check_user_fields(
        username=username,
        display_name=display_name,
        team=team,
        agent_code=agent_code,
        password=password,
    )
    if password and password_policy:
        check_password_policy(username, password)
    generated = None if password else secrets.token_urlsafe(12)
    now = datetime.now(UTC)
    with platform.uow() as uow:
        s = uow.session
        lowered = username.strip().lower()
        if s.scalar(select(User.id).where(func.lower(User.username) == lowered)) is not None:
            raise UserError(f"user {username!r} already exists (user names ignore case)")
        if agent_code and s.scalar(select(User.id).where(User.agent_code == agent_code)):
            raise UserError(f"agent code {agent_code!r} already belongs to another user")
        team_row = ensure_team(s, team) if team else None
        user = User(
            username=username,
            display_name=display_name or username,
            role=role,
            team_id=team_row.id if team_row else None,
            agent_code=agent_code,
            password_hash=hash_password(password or generated or ""),
            active=True,
            created_at=now,
        )
        s.add(user)
        s.flush()
        append_audit(
            s,
            actor=actor,
            action="user.add",
            object_type="user",
            object_id=user.id,
            details={"username": username, "role": role, "team": team},
        )
        uow.commit()
        return NewUser(user.id, username, role, team, agent_code, generated)


def ensure_team(session: Session, name: str) -> Team:
    """The team called ``name``, created in the caller's transaction when new."""
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name, created_at=datetime.now(UTC))
        session.add(team)
        session.flush()
    return team


def list_users(platform: Platform) -> list[dict[str, object]]:
    with platform.uow() as uow:
        rows = uow.session.execute(
            select(User, Team.name).outerjoin(Team, User.team_id == Team.id).order_by(User.id)
        ).all()
        return [
            {
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "team": team,
                "agent_code": u.agent_code,
                "active": u.active,
            }
            for u, team in rows
        ]


def update_user(
    platform: Platform,
    user_id: int,
    actor: str,
    *,
    role: str | None = None,
    team: str | None = None,
    active: bool | None = None,
) -> dict[str, Any]:
    """Change role, team (by name; '' clears it) and/or active flag; audited."""
    if role is not None and role not in {r.value for r in UserRole}:
        raise UserError(f"role {role!r} must be one of {[r.value for r in UserRole]}")
    check_user_fields(team=team)
    with platform.uow() as uow:
        s = uow.session
        user = s.get(User, user_id)
        if user is None:
            raise UserError(f"no user {user_id}")
        changes: dict[str, Any] = {}
        if role is not None and role != user.role:
            if role == "agent" and not user.agent_code:
                raise UserError("an agent needs an agent code (工号); create a new agent user")
            user.role, changes["role"] = role, role
        if team is not None:
            user.team_id = ensure_team(s, team).id if team else None
            changes["team"] = team
        if active is not None and active != user.active:
            user.active, changes["active"] = active, active
            if not active:
                bump_session_epoch(s, user_id)
        if user.role != str(UserRole.ADMIN) or not user.active:
            s.flush()
            if _active_admins(s) == 0:
                raise UserError(
                    "the last active admin cannot be deactivated or lose the admin role"
                )
        append_audit(
            s,
            actor=actor,
            action="user.update",
            object_type="user",
            object_id=user_id,
            details=changes,
        )
        uow.commit()
        return {"id": user_id, **changes}


def set_password(platform: Platform, user_id: int, password: str, actor: str) -> None:
    """Change a password (policy checked); every session of the user ends; audited."""
    with platform.uow() as uow:
        s = uow.session
        user = s.get(User, user_id)
        if user is None:
            raise UserError(f"no user {user_id}")
        check_user_fields(password=password)
        check_password_policy(user.username, password)
        user.password_hash = hash_password(password)
        bump_session_epoch(s, user_id)
        append_audit(
            s,
            actor=actor,
            action="user.password",
            object_type="user",
            object_id=user_id,
            details={},
        )
        uow.commit()


def list_teams(platform: Platform) -> list[dict[str, Any]]:
    """Teams with their member count."""
    with platform.uow() as uow:
        rows = uow.session.execute(
            select(Team, func.count(User.id))
            .outerjoin(User, User.team_id == Team.id)
            .group_by(Team.id)
            .order_by(Team.name)
        ).all()
        return [{"id": t.id, "name": t.name, "members": n} for t, n in rows]
