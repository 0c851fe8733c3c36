"""Administration use cases for the web console: change a user's role, team or status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from qa_platform.domain.calls import UserRole
from qa_platform.services.context import Platform
from qa_platform.services.users import UserError
from storage.audit import append_audit
from storage.models import Team, User


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
            user.team_id = _team_id(s, team) if team else None
            changes["team"] = team
        if active is not None and active != user.active:
            user.active, changes["active"] = active, active
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


def _team_id(session: Any, name: str) -> int:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name, created_at=datetime.now(UTC))
        session.add(team)
        session.flush()
    return team.id


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


def list_users_full(platform: Platform) -> list[dict[str, Any]]:
    """Users with team names for the admin table."""
    with platform.uow() as uow:
        rows = uow.session.execute(
            select(User, Team.name).outerjoin(Team, Team.id == User.team_id).order_by(User.id)
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


def reset_password(platform: Platform, username: str, actor: str) -> str:
    """Give a user a new generated password (returned once, stored as argon2 hash); audited."""
    import secrets

    from qa_platform.services.users import hash_password

    password = secrets.token_urlsafe(12)
    with platform.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise UserError(f"no user {username!r}")
        user.password_hash = hash_password(password)
        append_audit(
            uow.session,
            actor=actor,
            action="user.password_reset",
            object_type="user",
            object_id=user.id,
            details={},
        )
        uow.commit()
    return password


DEMO_STAFF = (  # username, role, team, display name
    ("admin", "admin", None, "管理员"),
    ("supervisor", "supervisor", None, "质检主管"),
    ("reviewer", "supervisor", None, "复议主管"),
    ("inspector1", "inspector", "质检一组", "质检员一"),
    ("inspector2", "inspector", "质检一组", "质检员二"),
)


def demo_credentials(platform: Platform) -> list[dict[str, str]]:
    """Demo sign-ins for ``qa demo``: staff are created, every active user gets a fresh
    password; returns ``[{username, role, password}]`` to print once."""
    from qa_platform.services.users import add_user

    known = {u["username"] for u in list_users_full(platform)}
    for username, role, team, name in DEMO_STAFF:
        if username not in known:
            add_user(platform, username, role, team=team, display_name=name, actor="demo")
    return [
        {
            "username": u["username"],
            "role": u["role"],
            "password": reset_password(platform, u["username"], "demo"),
        }
        for u in list_users_full(platform)
        if u["active"]
    ]
