"""Read side of auto-QA (机器预评分): what ``qa call show`` and the agreement report read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.judges import ItemJudgement
from scoring.services.scorecards import card_of_row
from storage.models_autoqa import AutoEvaluationRow
from storage.models_scoring import (
    ScorecardRow,
)


def auto_evaluation_detail(session: Session, call_id: int) -> dict[str, Any] | None:
    """The call's latest auto evaluation as ``qa call show`` prints it (None if there is none):
    ``{scorecard, version, total, passed, items: [{code, score, points, judged, violated,
    evidence: [{flag, start, end, text}]}]}``."""
    row = session.execute(
        select(AutoEvaluationRow, ScorecardRow)
        .join(ScorecardRow, ScorecardRow.id == AutoEvaluationRow.scorecard_id)
        .where(AutoEvaluationRow.call_id == call_id)
        .order_by(AutoEvaluationRow.updated_at.desc(), AutoEvaluationRow.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    auto, card_row = row
    judged = {item["code"]: item for item in auto.items}
    return {
        "scorecard": card_row.name,
        "version": card_row.version,
        "total": auto.total,
        "passed": auto.passed,
        "items": [
            judged.get(item.code) or ItemJudgement(item.code, item.points, False).to_dict()
            for item in card_of_row(card_row).items
        ],
    }


def latest_auto_items(
    session: Session, call_ids: Iterable[int], scorecard_id: int | None = None
) -> dict[int, list[dict[str, Any]]]:
    """Per call, the items of its latest auto evaluation (under ``scorecard_id`` if given)."""
    out: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    ids = list(call_ids)
    if not ids:
        return {}
    query = select(
        AutoEvaluationRow.call_id,
        AutoEvaluationRow.updated_at,
        AutoEvaluationRow.id,
        AutoEvaluationRow.items,
    ).where(AutoEvaluationRow.call_id.in_(ids))
    if scorecard_id is not None:
        query = query.where(AutoEvaluationRow.scorecard_id == scorecard_id)
    rows = session.execute(query)
    for call_id, updated_at, row_id, items in rows:
        best = out.get(call_id)
        if best is None or (updated_at, row_id) > best[0]:
            out[call_id] = ((updated_at, row_id), list(items))
    return {cid: items for cid, (_k, items) in out.items()}


__all__ = [
    "auto_evaluation_detail",
    "latest_auto_items",
]
