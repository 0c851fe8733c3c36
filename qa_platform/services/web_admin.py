"""Administration use cases for the web console: change a user's role, team or status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from qa_platform.domain.calls import UserRole
from qa_platform.services.context import Platform
from qa_platform.services.users import UserError, ensure_team
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
            user.team_id = ensure_team(s, team).id if team else None
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
