"""Work lists (工作队列): the inspector's queue, the supervisor's review and appeal lists, the
agent's results — each scoped to what the viewer may see."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from qa_platform.services.access import scope_evaluations
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from storage.models import Call, Team, User
from storage.models_scoring import AppealRow, EvaluationRow

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


def user_names(s: Session, ids: Iterable[int] | None = None) -> dict[int, str]:
    """Display names by user id: of ``ids`` only (a page's few people), or of everyone."""
    stmt = select(User.id, User.display_name, User.username)
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        stmt = stmt.where(User.id.in_(wanted))
    return {uid: display or username for uid, display, username in s.execute(stmt)}


def _eval_list(
    s: Session,
    user: SessionUser,
    *where: Any,
    limit: int = 200,
    newest_first: bool = False,
    blind: bool = False,
) -> list[dict[str, Any]]:
    """``blind`` (blind appeal review): an inspector sees no other inspector's name (the
    evaluations they re-review)."""
    order = EvaluationRow.id.desc() if newest_first else EvaluationRow.id
    stmt = (
        select(EvaluationRow, Call)
        .join(Call, Call.id == EvaluationRow.call_id)
        .where(*where)
        .order_by(order)
        .limit(limit)
    )
    names = user_names(s)
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
            "inspector": ""
            if blind and user.role == "inspector" and ev.inspector_id != user.id
            else names.get(ev.inspector_id, ""),
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
    if platform.settings.appeal_blind_review:  # the re-reviewer does not see who scored first
        reviewing = [{**e, "inspector": ""} for e in reviewing]
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
        return _eval_list(
            uow.session,
            user,
            EvaluationRow.state.in_(states),
            blind=platform.settings.appeal_blind_review,
        )


def agent_results(platform: Platform, user: SessionUser) -> list[dict[str, Any]]:
    """The agent's published results (我的质检结果)."""
    with platform.uow() as uow:
        return _eval_list(uow.session, user, EvaluationRow.agent_id == user.id)


def evaluations_of(
    platform: Platform, user: SessionUser, team: str | None = None, agent: str | None = None
) -> list[dict[str, Any]]:
    """Evaluations ``user`` may see of one agent team (by name) or one agent (by agent code),
    newest first (the dashboard's drill-down)."""
    with platform.uow() as uow:
        where: list[Any] = []
        if team:
            where.append(Call.team_id.in_(select(Team.id).where(Team.name == team)))
        if agent:  # the code on the call, or the code of the agent the call was assigned to
            where.append(_agent_is(agent))
        return _eval_list(uow.session, user, *where, limit=500, newest_first=True)


OPEN_WORK = ("assigned", "draft", "returned")


def next_in_queue(platform: Platform, user: SessionUser, after: int) -> int | None:
    """The evaluation to open after ``after`` (下一通): the next open one of my queue in its
    order (random stream, then targeted), wrapping round to the first; None when none is left."""
    queue = inspector_queue(platform, user)
    work = [*queue["random"], *queue["targeted"]]
    ids = [e["id"] for e in work]
    start = ids.index(after) + 1 if after in ids else 0
    ordered = work[start:] + work[:start]
    return next((e["id"] for e in ordered if e["state"] in OPEN_WORK and e["id"] != after), None)


def _agent_is(agent: str) -> Any:
    """Evaluations of one agent by agent code (工号): on the call, or of the agent it names."""
    agents = select(User.id).where(User.agent_code == agent)
    return or_(Call.agent_code == agent, Call.agent_id.in_(agents))


def evaluation_list(
    platform: Platform,
    user: SessionUser,
    q: Mapping[str, Any],
    limit: int = 50,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Evaluations ``user`` may see, newest first, filtered by ``q`` (``states``, the call's
    ``date_from``/``date_to``, ``agent`` code); ``before_id``: the rows after a page whose last
    id it is (the API's cursor)."""
    where: list[Any] = []
    if q.get("states"):
        where.append(EvaluationRow.state.in_(tuple(q["states"])))
    if q.get("date_from"):
        where.append(Call.started_at >= q["date_from"])
    if q.get("date_to"):
        where.append(Call.started_at < q["date_to"])
    if q.get("agent"):
        where.append(_agent_is(str(q["agent"])))
    if before_id is not None:
        where.append(EvaluationRow.id < before_id)
    with platform.uow() as uow:
        return _eval_list(
            uow.session,
            user,
            *where,
            limit=limit,
            newest_first=True,
            blind=platform.settings.appeal_blind_review,
        )


def appeal_list(
    platform: Platform, user: SessionUser, limit: int = 50, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Appeals (申诉) on the evaluations ``user`` may see, newest first; ``before_id`` as in
    ``evaluation_list``. The same fields as ``show_evaluation``'s appeals, plus ids."""
    stmt = (
        select(AppealRow, EvaluationRow.call_id)
        .join(EvaluationRow, EvaluationRow.id == AppealRow.evaluation_id)
        .join(Call, Call.id == EvaluationRow.call_id)
        .where(EvaluationRow.state.in_(APPEAL_STATES))
        .order_by(AppealRow.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(AppealRow.id < before_id)
    with platform.uow() as uow:
        s = uow.session
        return [
            {
                "id": a.id,
                "evaluation_id": a.evaluation_id,
                "call_id": call_id,
                "number": a.number,
                "filed_by": a.filed_by,
                "filed_at": _iso(a.filed_at),
                "reason": a.reason,
                "disputed_items": list(a.disputed_items or []),
                "reviewer_id": a.reviewer_id,
                "decision": a.decision,
                "decided_by": a.decided_by,
                "decided_at": _iso(a.decided_at),
                "note": a.note,
                "resulting_version": a.resulting_version,
            }
            for a, call_id in s.execute(scope_evaluations(s, user, stmt))
        ]


APPEAL_STATES = ("appealed", "published", "final")  # where an appeal can be


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
