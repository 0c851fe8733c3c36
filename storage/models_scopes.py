"""Supervision scopes (监管范围): which agent teams a supervisor oversees.

A supervisor oversees a set of agent teams or the whole centre; a QA team (the team an
inspector or a supervisor belongs to) is not an agent team. A supervisor without a scope row
keeps the older rule: the calls of their own team, or the whole centre when they have none.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class SupervisionScope(Base):
    """One supervisor's scope: every agent team (``all_teams``) or the teams listed in
    ``supervision_scope_teams``."""

    __tablename__ = "supervision_scopes"
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    all_teams: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class SupervisionScopeTeam(Base):
    """An agent team inside a supervisor's scope."""

    __tablename__ = "supervision_scope_teams"
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("supervision_scopes.user_id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("teams.id"), primary_key=True, index=True
    )
