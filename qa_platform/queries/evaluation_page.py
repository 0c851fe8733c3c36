"""The evaluation page (评分页): call, scorecard, transcript, flags, versions, who may re-review."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from qa_platform.queries.call_analysis import transcript_segments
from qa_platform.queries.calls import call_card, call_flags
from qa_platform.queries.work_queues import user_names
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from scoring import services as scoring
from scoring.services import autoqa_review
from storage.models import Call, User
from storage.models_scoring import EvaluationRow, ScorecardRow


def evaluation_page(platform: Platform, user: SessionUser, evaluation_id: int) -> dict[str, Any]:
    """Everything the evaluation page shows: call, scorecard, transcript, flags, versions."""
    with platform.uow() as uow:  # one session: rows read once stay in its identity map
        s = uow.session
        row = s.get(EvaluationRow, evaluation_id)  # held for the page: read once
        card = s.get(ScorecardRow, row.scorecard_id) if row else None
        call = s.get(Call, row.call_id) if row else None
        if row is None or call is None or card is None:
            raise scoring.NotFoundError(f"no evaluation {evaluation_id}")
        detail = scoring.evaluation_detail(s, uow.settings, evaluation_id, viewer=user.id)
        blind = detail["inspector_id"] is None  # a blind re-reviewer: the inspector stays hidden
        shown = {a["reviewer_id"] for a in detail["appeals"]} - {None}
        names = user_names(s, shown - ({row.inspector_id} if blind else set()))
        return {
            "evaluation": detail,
            "card": card.definition,
            "call": call_card(s, call),
            "segments": transcript_segments(s, call.id, with_words=False),
            "flags": call_flags(s, call.id),
            "names": names,
            "row_version": row.row_version,
            "titles": {
                i["code"]: i["title"] for sec in card.definition["sections"] for i in sec["items"]
            },
            "inspector_id": None if blind else row.inspector_id,
            "return_reason": row.return_reason if row.state in ("returned", "draft") else "",
            **_machine(s, evaluation_id),
        }


def _machine(s: Any, evaluation_id: int) -> dict[str, Any]:
    """The machine's suggestions (机器建议) and the inspector's decisions on them, by item."""
    suggestions = autoqa_review.suggestions_for(s, evaluation_id)
    decisions = autoqa_review.decisions_of(s, evaluation_id, suggestions)
    return {
        "suggestions": {
            code: sg.to_dict() | {"shown": sg.shown()} for code, sg in suggestions.items()
        },
        "decisions": {
            code: d.to_dict() | {"shown": d.suggestion.shown()} for code, d in decisions.items()
        },
    }


def scorecard_of(platform: Platform, evaluation_id: int) -> dict[str, Any]:
    """The scorecard definition an evaluation is scored against."""
    with platform.uow() as uow:
        row = uow.session.get(EvaluationRow, evaluation_id)
        if row is None:
            raise scoring.NotFoundError(f"no evaluation {evaluation_id}")
        card = uow.session.get(ScorecardRow, row.scorecard_id)
        if card is None:
            raise scoring.NotFoundError(f"evaluation {evaluation_id} has no scorecard")
        return card.definition


def reviewers(platform: Platform, exclude: set[int]) -> list[dict[str, Any]]:
    """People who may re-review an appeal (another inspector or a supervisor), minus ``exclude``."""
    from scoring.workflow import APPEAL_REVIEWER_ROLES

    roles = sorted(str(r) for r in APPEAL_REVIEWER_ROLES)
    with platform.uow() as uow:
        rows = uow.session.scalars(
            select(User).where(User.active, User.role.in_(roles)).order_by(User.id)
        )
        return [
            {"id": u.id, "name": u.display_name or u.username, "role": u.role}
            for u in rows
            if u.id not in exclude
        ]


def inspectors(platform: Platform) -> list[dict[str, Any]]:
    """Active inspectors (calibration participants)."""
    with platform.uow() as uow:
        rows = uow.session.scalars(
            select(User).where(User.active, User.role == "inspector").order_by(User.id)
        )
        return [{"id": u.id, "name": u.display_name or u.username, "role": u.role} for u in rows]
