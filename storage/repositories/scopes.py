"""Supervision scopes (监管范围) in the database: read and replace a supervisor's agent teams.

Both the access rules (``qa_platform.services.access``) and the scoring services read the
scope through :func:`supervised_team_ids`, so every list, check and action agrees.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models_scopes import SupervisionScope, SupervisionScopeTeam


def supervised_team_ids(s: Session, user_id: int, own_team_id: int | None) -> frozenset[int] | None:
    """The agent teams the supervisor ``user_id`` oversees; ``None`` means the whole centre.

    Without a scope row the older rule holds: their own team, or the whole centre without one.
    """
    row = s.get(SupervisionScope, user_id)
    if row is None:
        return None if own_team_id is None else frozenset({own_team_id})
    if row.all_teams:
        return None
    stmt = select(SupervisionScopeTeam.team_id).where(SupervisionScopeTeam.user_id == user_id)
    return frozenset(s.scalars(stmt))


def has_scope(s: Session, user_id: int) -> bool:
    """True when a scope was set for ``user_id`` (otherwise the older team rule applies)."""
    return s.get(SupervisionScope, user_id) is not None


def replace_scope(s: Session, user_id: int, team_ids: Iterable[int] | None, at: datetime) -> None:
    """Set the scope of ``user_id`` to ``team_ids`` (``None``: every team), in the caller's
    transaction; the previous teams are removed."""
    row = s.get(SupervisionScope, user_id)
    if row is None:
        row = SupervisionScope(user_id=user_id, all_teams=team_ids is None, updated_at=at)
        s.add(row)
    row.all_teams, row.updated_at = team_ids is None, at
    s.flush()
    s.execute(delete(SupervisionScopeTeam).where(SupervisionScopeTeam.user_id == user_id))
    for team_id in sorted(set(team_ids or ())):
        s.add(SupervisionScopeTeam(user_id=user_id, team_id=team_id))
    s.flush()


def clear_scope(s: Session, user_id: int) -> None:
    """Remove the scope of ``user_id`` (back to the older team rule)."""
    s.execute(delete(SupervisionScopeTeam).where(SupervisionScopeTeam.user_id == user_id))
    s.execute(delete(SupervisionScope).where(SupervisionScope.user_id == user_id))
