"""Reads of one evaluation (评分详情): versions, appeals, the draft, with the inspector hidden
from a blind re-reviewer. Split from ``evaluations`` (its commands) along the read/write seam."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from qa_platform.settings import Settings
from scoring.services.common import OPEN_STATES, actor_for
from scoring.services.evaluation_unit import workflow_policy
from scoring.workflow import Appeal, EvaluationVersion
from storage.models_scoring import EvaluationRow, ScorecardRow
from storage.repositories.evaluations import (
    SqlEvaluationRepository,
    aware,
    comment_to_json,
    results_to_json,
)
from storage.uow import UnitOfWork

__all__ = ["evaluation_detail", "show_evaluation"]


def show_evaluation(
    uow: UnitOfWork, evaluation_id: int, viewer: int | str | None = None
) -> dict[str, Any]:
    """An evaluation with its versions and appeals; the inspector is hidden from a blind reviewer."""
    with uow:
        return evaluation_detail(uow.session, uow.settings, evaluation_id, viewer)


def evaluation_detail(
    s: Session, settings: Settings, evaluation_id: int, viewer: int | str | None = None
) -> dict[str, Any]:
    """``show_evaluation`` inside a caller's session (a page that reads more in the same one)."""
    policy = workflow_policy(settings)
    row = s.get(EvaluationRow, evaluation_id)  # held: the identity map keeps only what is held
    card_row = s.get(ScorecardRow, row.scorecard_id) if row else None
    ev = SqlEvaluationRepository(s, policy).get(evaluation_id).evaluation
    assert row is not None and card_row is not None
    inspector: int | None = row.inspector_id
    blind = False
    if viewer is not None:
        v = actor_for(s, viewer)
        reviewing = any(a.reviewer_id == v.user_id for a in ev.appeals)
        blind = policy.blind_review and reviewing and v.user_id != row.inspector_id
        if blind:
            inspector = None
    hidden = {row.inspector_id} if blind else set()
    return {
        "evaluation_id": row.id,
        "call_id": row.call_id,
        "agent_id": row.agent_id,
        "inspector_id": inspector,
        "state": row.state,
        "row_version": row.row_version,
        "stream": row.stream,
        "scorecard": {"name": card_row.name, "version": card_row.version},
        "published_at": _iso(aware(row.published_at)),
        "appeal_deadline": _iso(aware(row.appeal_deadline)),
        "total": row.total,
        "passed": row.passed,
        "current_version": row.current_version,
        "draft": _hide_authors(row.draft, hidden)
        if row.state in {str(x) for x in OPEN_STATES} | {"submitted"}
        else None,
        "versions": [_version_json(v, hidden) for v in ev.versions],
        "appeals": [_appeal_json(a) for a in ev.appeals],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _hide_authors(draft: Any, hidden: AbstractSet[int]) -> Any:
    """A draft with the comments' ``author_id`` blanked where the author must stay hidden."""
    if not hidden or not isinstance(draft, dict):
        return draft
    comments = [
        {**c, "author_id": None} if c.get("author_id") in hidden else c
        for c in draft.get("comments") or []
    ]
    return {**draft, "comments": comments}


def _version_json(v: EvaluationVersion, hidden: AbstractSet[int] = frozenset()) -> dict[str, Any]:
    return {
        "number": v.number,
        "total": v.score.total if v.score else None,
        "passed": v.score.passed if v.score else None,
        "red_line_violations": list(v.score.red_line_violations) if v.score else [],
        "author_id": None if v.author_id in hidden else v.author_id,
        "created_at": _iso(v.created_at),
        "reason": v.reason,
        "results": results_to_json(v.results),
        "comments": [
            {**comment_to_json(c), "author_id": None if c.author_id in hidden else c.author_id}
            for c in v.comments
        ],
    }


def _appeal_json(a: Appeal) -> dict[str, Any]:
    return {
        "number": a.number,
        "filed_by": a.filed_by,
        "filed_at": _iso(a.filed_at),
        "reason": a.reason,
        "disputed_items": list(a.disputed_items),
        "reviewer_id": a.reviewer_id,
        "decision": str(a.decision) if a.decision else None,
        "decided_by": a.decided_by,
        "decided_at": _iso(a.decided_at),
        "note": a.note,
        "resulting_version": a.resulting_version,
    }
