"""Business lines (业务条线): which scorecard scores the calls of each business type.

Seed 002 §5.3 asks for quality analysis per business line, and a 理赔 call is not scored against
the 保全 scorecard. A business type without a line uses the default scorecard. The mapping is
read by the sampling assignment (each evaluation gets its call's line's scorecard), by the
auto-QA stage and ``qa autoqa rerun`` (the machine judges against the same scorecard, so the
inspector's page shows its suggestions), and the reports' 业务类型 rows name the scorecard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.errors import Invalid
from scoring.services.common import NotFoundError, actor_for, audit
from scoring.services.scorecards import scorecard_row
from storage.models_scoring import ScorecardRow
from storage.models_surveys import BusinessLineRow
from storage.uow import UnitOfWork

MAX_LINES = 500


class BusinessLineInvalid(Invalid):
    """A business type or scorecard name that cannot be a business line."""


def business_lines(s: Session) -> dict[str, str]:
    """business type → scorecard name, for every line (a small table, read whole)."""
    rows = s.execute(select(BusinessLineRow.business_type, BusinessLineRow.scorecard_name))
    return {btype: name for btype, name in rows}


def scorecard_for(
    s: Session, business_type: str | None, lines: Mapping[str, str] | None = None
) -> ScorecardRow:
    """The active scorecard version for a call of ``business_type`` (its line's, else the
    default scorecard's). ``lines`` avoids re-reading the mapping for every call of a batch."""
    mapping = business_lines(s) if lines is None else lines
    name = mapping.get(business_type or "")
    return scorecard_row(s, name)


def list_lines(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        rows = uow.session.scalars(select(BusinessLineRow).order_by(BusinessLineRow.business_type))
        return [_json(r) for r in rows]


def set_line(
    uow: UnitOfWork, business_type: str, scorecard: str, actor: int | str
) -> dict[str, Any]:
    """Point ``business_type`` at the active scorecard ``scorecard`` (created or changed)."""
    btype, name = _text(business_type, "business_type", 64), _text(scorecard, "scorecard", 100)
    with uow:
        s = uow.session
        by = actor_for(s, actor)
        if by.role.value not in ("supervisor", "admin"):
            raise BusinessLineInvalid.of("line.forbidden")
        try:
            card = scorecard_row(s, name)
        except NotFoundError:
            raise BusinessLineInvalid.of("line.unknown_scorecard", scorecard=name) from None
        row = s.scalar(select(BusinessLineRow).where(BusinessLineRow.business_type == btype))
        before = row.scorecard_name if row else None
        if row is None:
            count = len(business_lines(s))
            if count >= MAX_LINES:
                raise BusinessLineInvalid.of("line.too_many", limit=MAX_LINES)
            row = BusinessLineRow(business_type=btype)
            s.add(row)
        row.scorecard_name, row.updated_at, row.updated_by = card.name, utc_now(), str(by.user_id)
        s.flush()
        audit(
            s,
            by.user_id,
            "business_line.set",
            "business_line",
            btype,
            {"scorecard": card.name, "before": before},
        )
        uow.commit()
        return _json(row)


def remove_line(uow: UnitOfWork, business_type: str, actor: int | str) -> bool:
    """Remove a line: its calls go back to the default scorecard. False if there was none."""
    with uow:
        s = uow.session
        by = actor_for(s, actor)
        if by.role.value not in ("supervisor", "admin"):
            raise BusinessLineInvalid.of("line.forbidden")
        row = s.scalar(
            select(BusinessLineRow).where(BusinessLineRow.business_type == business_type)
        )
        if row is None:
            return False
        s.delete(row)
        audit(s, by.user_id, "business_line.remove", "business_line", business_type, {})
        uow.commit()
        return True


def _text(value: str, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit or not text.isprintable():
        raise BusinessLineInvalid.of("line.bad_field", field=field, limit=limit)
    return text


def _json(row: BusinessLineRow) -> dict[str, Any]:
    return {
        "business_type": row.business_type,
        "scorecard": row.scorecard_name,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        "updated_by": row.updated_by,
    }
