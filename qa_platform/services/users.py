"""People: teams and users with roles; passwords hashed with argon2; admin changes (audited)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import func, or_, select, update
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


# --------------------------------------------------------------------------- supervision scopes
TEAM_SEPARATORS = (",", "，", "、", ";", "；")


@dataclass(frozen=True)
class ScopeView:
    """A supervisor's supervision scope (监管范围) as pages and commands show it.

    ``explicit`` is False when no scope was set: the older rule applies (their own team, or
    the whole centre without one), shown in ``all_teams`` and ``teams``.
    """

    user_id: int
    username: str
    display_name: str
    own_team: str | None
    all_teams: bool
    teams: tuple[str, ...]
    explicit: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "display_name": self.display_name,
            "own_team": self.own_team,
            "all_teams": self.all_teams,
            "teams": list(self.teams),
            "explicit": self.explicit,
        }


def parse_team_list(text: str) -> list[str]:
    """Team names from ``一组,二组`` (also ``，``, ``、`` and ``;``), blanks dropped, in order."""
    for sep in TEAM_SEPARATORS[1:]:
        text = text.replace(sep, ",")
    names = [part.strip() for part in text.split(",")]
    return list(dict.fromkeys(n for n in names if n))


def _scope_user(s: Session, who: int | str) -> User:
    stmt = select(User).where(User.id == who if isinstance(who, int) else User.username == who)
    user = s.scalar(stmt)
    if user is None:
        raise UserError.of("scope.no_user", user=who)
    if user.role != str(UserRole.SUPERVISOR):
        raise UserError.of("scope.not_supervisor", user=user.username, role=user.role)
    return user


def _agent_team_ids(s: Session, names: list[str]) -> list[int]:
    """Ids of the agent teams called ``names``; unknown names and QA teams (members but no
    agent, no call) are refused, naming them."""
    from storage.models import Call

    rows = {t.name: t.id for t in s.scalars(select(Team).where(Team.name.in_(names)))}
    unknown = [n for n in names if n not in rows]
    if unknown:
        raise UserError.of("scope.unknown_teams", teams="、".join(unknown))
    qa_teams = []
    for name in names:
        agents = s.scalar(
            select(func.count(User.id)).where(User.team_id == rows[name], User.role == "agent")
        )
        calls = s.scalar(select(func.count(Call.id)).where(Call.team_id == rows[name]))
        staff = s.scalar(
            select(func.count(User.id)).where(User.team_id == rows[name], User.role != "agent")
        )
        if not agents and not calls and staff:
            qa_teams.append(name)
    if qa_teams:
        raise UserError.of("scope.qa_team", teams="、".join(qa_teams))
    return [rows[n] for n in names]


def set_scope(
    platform: Platform,
    who: int | str,
    teams: list[str] | None,
    actor: str = "cli",
) -> ScopeView:
    """Set the agent teams the supervisor ``who`` (id or user name) oversees; ``teams=None``:
    the whole centre. An empty list is refused; audited (``user.scope``)."""
    from storage.repositories.scopes import replace_scope

    if teams is not None and not teams:
        raise UserError.of("scope.empty")
    with platform.uow() as uow:
        s = uow.session
        user = _scope_user(s, who)
        team_ids = None if teams is None else _agent_team_ids(s, teams)
        replace_scope(s, user.id, team_ids, datetime.now(UTC))
        append_audit(
            s,
            actor=actor,
            action="user.scope",
            object_type="user",
            object_id=user.id,
            details={"all_teams": teams is None, "teams": teams or []},
        )
        uow.commit()
        user_id = user.id
    return show_scope(platform, user_id)


def _view(s: Session, user: User, names: dict[int, str]) -> ScopeView:
    from storage.repositories.scopes import has_scope, supervised_team_ids

    ids = supervised_team_ids(s, user.id, user.team_id)
    teams = () if ids is None else tuple(sorted(names.get(i, str(i)) for i in ids))
    own = names.get(user.team_id) if user.team_id is not None else None
    return ScopeView(
        user.id,
        user.username,
        user.display_name or user.username,
        own,
        ids is None,
        teams,
        has_scope(s, user.id),
    )


def show_scope(platform: Platform, who: int | str) -> ScopeView:
    """The supervision scope of one supervisor."""
    with platform.uow() as uow:
        s = uow.session
        names = {t.id: t.name for t in s.scalars(select(Team))}
        return _view(s, _scope_user(s, who), names)


def list_scopes(platform: Platform) -> list[ScopeView]:
    """Every supervisor's scope, by user id."""
    with platform.uow() as uow:
        s = uow.session
        names = {t.id: t.name for t in s.scalars(select(Team))}
        stmt = select(User).where(User.role == str(UserRole.SUPERVISOR)).order_by(User.id)
        return [_view(s, u, names) for u in s.scalars(stmt)]


def list_agent_teams(platform: Platform) -> list[str]:
    """Names of the agent teams (班组 with agents or calls), the choices of a scope."""
    from storage.models import Call

    with platform.uow() as uow:
        s = uow.session
        with_agents = select(User.team_id).where(User.role == "agent")
        with_calls = select(Call.team_id)
        stmt = (
            select(Team.name)
            .where(or_(Team.id.in_(with_agents), Team.id.in_(with_calls)))
            .order_by(Team.name)
        )
        return list(s.scalars(stmt))
