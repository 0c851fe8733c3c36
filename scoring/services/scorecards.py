"""Scorecard versions (评分表) in the database: stored once per name and version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from scoring.scorecard import Scorecard, ScorecardError, default_scorecard, scorecard_to_mapping
from scoring.services.common import NotFoundError, actor_for, audit
from storage.models_scoring import ScorecardRow
from storage.repositories.evaluations import card_of_row
from storage.uow import UnitOfWork

__all__ = ["card_of_row", "ensure_scorecard", "scorecard_row", "store_scorecard"]


def ensure_scorecard(
    uow: UnitOfWork, card: Scorecard | None = None, actor: int | str | None = None
) -> dict[str, Any]:
    """Store a scorecard version (the default one when None); idempotent for equal content.
    ``actor`` (a user id, name or ``user:ID``) is who the audit row names (``system`` if None)."""
    card = card or default_scorecard()
    with uow:
        actor_id = _actor_id(uow.session, actor)
        row = store_scorecard(uow.session, card, actor_id)
        uow.commit()
        return {
            "scorecard_id": row.id,
            "name": row.name,
            "version": row.version,
            "fingerprint": row.fingerprint,
        }


def _actor_id(s: Session, actor: int | str | None) -> int | None:
    if actor is None:
        return None
    if isinstance(actor, str) and actor.startswith("user:"):
        actor = int(actor.removeprefix("user:"))
    return actor_for(s, actor).user_id


def store_scorecard(s: Session, card: Scorecard, actor_id: int | None = None) -> ScorecardRow:
    """The row of ``card``, added if new; a changed card under an old version number is refused."""
    row = s.scalar(
        select(ScorecardRow).where(
            ScorecardRow.name == card.name, ScorecardRow.version == card.version
        )
    )
    if row is not None:
        if row.fingerprint != card.fingerprint:
            raise ScorecardError(
                f"scorecard {card.name} v{card.version} already exists with other "
                "content; give the change a new version number"
            )
        return row
    row = ScorecardRow(
        name=card.name,
        version=card.version,
        fingerprint=card.fingerprint,
        definition=scorecard_to_mapping(card),
        active=True,
        created_at=utc_now(),
    )
    s.add(row)
    s.flush()
    audit(
        s,
        actor_id,
        "scorecard.add",
        "scorecard",
        row.id,
        {"name": card.name, "version": card.version},
    )
    return row


def scorecard_row(s: Session, name: str | None) -> ScorecardRow:
    """The latest active version of ``name`` (the default scorecard, stored if needed, if None)."""
    if name is None:
        return store_scorecard(s, default_scorecard())
    row = s.scalars(
        select(ScorecardRow)
        .where(ScorecardRow.name == name, ScorecardRow.active)
        .order_by(ScorecardRow.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError(f"no active scorecard {name!r}")
    return row
