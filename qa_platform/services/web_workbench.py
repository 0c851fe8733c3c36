"""Read models behind the web pages: queues, the evaluation page, the call page, search.

The pages change an evaluation only through the commands of ``scoring.services``; this module
only reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.services.calls import call_flags
from qa_platform.services.context import Platform
from qa_platform.services.pipeline import transcript_segments
from qa_platform.services.web_access import scope_calls, scope_evaluations
from qa_platform.services.web_auth import SessionUser
from scoring import services as scoring
from storage.models import Call, CallFlag, Team, User
from storage.models_pipeline import TranscriptSegment
from storage.models_scoring import AppealRow, EvaluationRow, ScorecardRow

ALL_STATES = (
    "assigned",
    "draft",
    "submitted",
    "returned",
    "approved",
    "published",
    "appealed",
    "final",
)


# ----------------------------------------------------------------------------- read models
def _names(s: Session) -> dict[int, str]:
    return {u.id: u.display_name or u.username for u in s.scalars(select(User))}


def _eval_list(
    s: Session, user: SessionUser, *where: Any, limit: int = 200
) -> list[dict[str, Any]]:
    stmt = (
        select(EvaluationRow, Call)
        .join(Call, Call.id == EvaluationRow.call_id)
        .where(*where)
        .order_by(EvaluationRow.id)
        .limit(limit)
    )
    names = _names(s)
    return [
        {
            "id": ev.id,
            "call_id": ev.call_id,
            "state": ev.state,
            "stream": ev.stream,
            "total": ev.total,
            "passed": ev.passed,
            "row_version": ev.row_version,
            "agent": names.get(ev.agent_id, ""),
            "inspector": names.get(ev.inspector_id, ""),
            "started_at": call.started_at,
            "duration_s": call.duration_s,
            "business_type": call.business_type,
            "appeal_deadline": ev.appeal_deadline,
        }
        for ev, call in s.execute(scope_evaluations(s, user, stmt))
    ]


def inspector_queue(platform: Platform, user: SessionUser) -> dict[str, list[dict[str, Any]]]:
    """My open work (我的队列), random and targeted streams apart, plus appeals to re-review."""
    with platform.uow() as uow:
        s = uow.session
        mine = _eval_list(
            s,
            user,
            EvaluationRow.inspector_id == user.id,
            EvaluationRow.state.in_(("assigned", "draft", "returned", "submitted")),
        )
        reviewing = _eval_list(
            s,
            user,
            EvaluationRow.state == "appealed",
            EvaluationRow.id.in_(
                select(AppealRow.evaluation_id).where(
                    AppealRow.reviewer_id == user.id, AppealRow.decision.is_(None)
                )
            ),
        )
    return {
        "random": [e for e in mine if e["stream"] != "targeted"],
        "targeted": [e for e in mine if e["stream"] == "targeted"],
        "appeals": reviewing,
    }


def evaluations_in(
    platform: Platform, user: SessionUser, states: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Evaluations in ``states`` that ``user`` may see (review queue, publish list, appeals)."""
    with platform.uow() as uow:
        return _eval_list(uow.session, user, EvaluationRow.state.in_(states))


def agent_results(platform: Platform, user: SessionUser) -> list[dict[str, Any]]:
    """The agent's published results (我的质检结果)."""
    with platform.uow() as uow:
        return _eval_list(uow.session, user, EvaluationRow.agent_id == user.id)


def evaluation_page(platform: Platform, user: SessionUser, evaluation_id: int) -> dict[str, Any]:
    """Everything the evaluation page shows: call, scorecard, transcript, flags, versions."""
    detail = scoring.show_evaluation(platform.uow(), evaluation_id, viewer=user.id)
    with platform.uow() as uow:
        s = uow.session
        row = s.get(EvaluationRow, evaluation_id)
        card = s.get(ScorecardRow, row.scorecard_id)  # type: ignore[union-attr]
        call = s.get(Call, detail["call_id"])
        names = _names(s)
        return {
            "evaluation": detail,
            "card": card.definition,
            "call": _call_dict(s, call),  # type: ignore[union-attr,arg-type]
            "segments": transcript_segments(s, call.id, with_words=False),  # type: ignore[union-attr]
            "flags": call_flags(s, call.id),  # type: ignore[union-attr]
            "names": names,
            "row_version": row.row_version,  # type: ignore[union-attr]
            "titles": {
                i["code"]: i["title"]
                for sec in card.definition["sections"]  # type: ignore[union-attr]
                for i in sec["items"]
            },
            "inspector_id": row.inspector_id,  # type: ignore[union-attr]
            "return_reason": row.return_reason if row.state in ("returned", "draft") else "",  # type: ignore[union-attr]
        }


def _call_dict(s: Session, call: Call) -> dict[str, Any]:
    team = s.get(Team, call.team_id) if call.team_id else None
    return {
        "id": call.id,
        "agent_code": call.agent_code,
        "team": team.name if team else "",
        "direction": call.direction,
        "business_type": call.business_type,
        "started_at": call.started_at,
        "duration_s": call.duration_s,
        "status": call.status,
        "audio_format": call.audio_format,
        "legal_hold": call.legal_hold,
        "retain_until": call.retain_until,
        "retention_class": call.retention_class,
        "purged": call.purged_at is not None,
    }


def call_page(platform: Platform, call_id: int) -> dict[str, Any]:
    """A call with its transcript and flags (the caller checked access)."""
    with platform.uow() as uow:
        s = uow.session
        call = s.get(Call, call_id)
        if call is None:
            raise scoring.NotFoundError(f"no call {call_id}")
        evals = s.scalars(select(EvaluationRow).where(EvaluationRow.call_id == call_id)).all()
        return {
            "call": _call_dict(s, call),
            "segments": transcript_segments(s, call_id, with_words=False),
            "flags": call_flags(s, call_id),
            "evaluations": [{"id": e.id, "state": e.state, "total": e.total} for e in evals],
        }


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


def scorecard_of(platform: Platform, evaluation_id: int) -> dict[str, Any]:
    """The scorecard definition an evaluation is scored against."""
    with platform.uow() as uow:
        row = uow.session.get(EvaluationRow, evaluation_id)
        if row is None:
            raise scoring.NotFoundError(f"no evaluation {evaluation_id}")
        return uow.session.get(ScorecardRow, row.scorecard_id).definition  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- search
def search_calls(
    platform: Platform, user: SessionUser, q: Mapping[str, Any], limit: int = 200
) -> list[dict[str, Any]]:
    """Call search (通话检索) by date, agent, team, flag type, score range and transcript words."""
    stmt = select(Call, Team.name).outerjoin(Team, Team.id == Call.team_id)
    conds = _search_conditions(q)
    with platform.uow() as uow:
        s = uow.session
        stmt = (
            scope_calls(s, user, stmt.where(*conds)).order_by(Call.started_at.desc()).limit(limit)
        )
        scores = dict(
            s.execute(
                select(EvaluationRow.call_id, func.max(EvaluationRow.total)).group_by(
                    EvaluationRow.call_id
                )
            ).all()
        )
        return [
            {
                "id": c.id,
                "started_at": c.started_at,
                "agent_code": c.agent_code,
                "team": team,
                "duration_s": c.duration_s,
                "status": c.status,
                "score": scores.get(c.id),
            }
            for c, team in s.execute(stmt)
        ]


def _search_conditions(q: Mapping[str, Any]) -> list[Any]:
    conds: list[Any] = []
    if q.get("date_from"):
        conds.append(Call.started_at >= q["date_from"])
    if q.get("date_to"):
        conds.append(Call.started_at < q["date_to"])
    if q.get("agent"):
        conds.append(Call.agent_code == q["agent"])
    if q.get("team"):
        conds.append(Call.team_id.in_(select(Team.id).where(Team.name == q["team"])))
    if q.get("flag_type"):
        conds.append(Call.id.in_(select(CallFlag.call_id).where(CallFlag.type == q["flag_type"])))
    if q.get("score_min") is not None or q.get("score_max") is not None:
        lo = q.get("score_min") if q.get("score_min") is not None else -1.0
        hi = q.get("score_max") if q.get("score_max") is not None else 1e9
        conds.append(
            Call.id.in_(
                select(EvaluationRow.call_id).where(
                    EvaluationRow.total >= lo, EvaluationRow.total <= hi
                )
            )
        )
    if q.get("text"):
        pattern = "%" + str(q["text"]).replace("%", r"\%").replace("_", r"\_") + "%"
        conds.append(
            Call.id.in_(
                select(TranscriptSegment.call_id).where(
                    TranscriptSegment.text.like(pattern, escape="\\")
                )
            )
        )
    return conds
