"""Use cases behind the web pages: queues, the evaluation page, guarded workflow actions.

Workflow actions go through ``scoring.services`` (its ``_apply`` runs one domain transition
under the ``row_version`` guard). This module adds what a browser form needs: the version the
form was rendered from must still be current (``StaleForm`` otherwise, nothing saved), and
several steps of one form (start, save scores, submit) commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.domain.errors import Conflict, Invalid
from qa_platform.queries.call_analysis import transcript_segments
from qa_platform.queries.calls import call_flags
from qa_platform.services.access import scope_calls, scope_evaluations
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from scoring import services as scoring
from scoring.scorecard import results_from_mapping
from scoring.workflow import Comment, Decision
from storage.models import Call, CallFlag, Team, User
from storage.models_pipeline import TranscriptSegment
from storage.models_scoring import AppealRow, EvaluationRow, ScorecardRow

Step = Callable[[Any, Any, datetime], Any]
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


class StaleForm(Conflict):
    """The form was rendered from an older version of the evaluation; nothing was saved."""


class FormError(Invalid):
    """A form field is missing or malformed; the message names it."""


# ----------------------------------------------------------------------------- guarded actions
def _guarded(
    platform: Platform,
    user: SessionUser,
    evaluation_id: int,
    expected: int,
    steps: Callable[[EvaluationRow], list[Step]],
) -> dict[str, Any]:
    """Run ``steps`` in one transaction if the evaluation is still at ``expected`` version."""
    at = datetime.now(UTC)
    uow = platform.uow()
    with uow:
        s = uow.session
        row = s.get(EvaluationRow, evaluation_id)
        if row is None:
            raise scoring.NotFoundError(f"no evaluation {evaluation_id}")
        if row.row_version != expected:
            raise StaleForm(
                f"evaluation {evaluation_id} was changed by someone else since this "
                f"page was opened (version {expected}, now {row.row_version}); "
                "reload the page — nothing was saved"
            )
        by, policy = scoring.actor_for(s, user.id), scoring._policy(uow)
        for step in steps(row):
            scoring._apply(s, row, step, by, at, policy)
            s.flush()
            s.refresh(row)
        uow.commit()
        return {"evaluation_id": evaluation_id, "state": row.state, "row_version": row.row_version}


def _opening_steps(row: EvaluationRow) -> list[Step]:
    if row.state == "assigned":
        return [lambda ev, by, t: ev.start(by, t)]
    if row.state == "returned":
        return [lambda ev, by, t: ev.reopen(by, t)]
    return []


def parse_scores(card: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Scorecard form fields → ``{code: points | "na" | violated}``; blanks are left out."""
    scores: dict[str, Any] = {}
    for section in card["sections"]:
        for item in section["items"]:
            code = item["code"]
            if item.get("red_line"):
                scores[code] = form.get(f"violated_{code}") in ("1", "on", "true")
            elif form.get(f"na_{code}") in ("1", "on", "true"):
                scores[code] = "na"
            elif raw := (form.get(f"score_{code}") or "").strip():
                try:
                    scores[code] = float(raw)
                except ValueError:
                    raise FormError(f"item {code}: {raw!r} is not a number") from None
    return scores


def save_draft(
    platform: Platform,
    user: SessionUser,
    evaluation_id: int,
    expected: int,
    scores: Mapping[str, Any],
    submit: bool = False,
) -> dict[str, Any]:
    """Save the draft scores (opening the evaluation if needed) and optionally submit."""
    results = results_from_mapping(scores)

    def steps(row: EvaluationRow) -> list[Step]:
        out = [*_opening_steps(row), lambda ev, by, t: ev.record_scores(results, by, t)]
        return [*out, lambda ev, by, t: ev.submit(by, t)] if submit else out

    return _guarded(platform, user, evaluation_id, expected, steps)


def add_comment(
    platform: Platform,
    user: SessionUser,
    evaluation_id: int,
    expected: int,
    at_s: float,
    text: str,
    item_code: str | None,
) -> dict[str, Any]:
    """Pin a comment to second ``at_s`` of the call (opening the evaluation if needed)."""

    def steps(row: EvaluationRow) -> list[Step]:
        def comment(ev: Any, by: Any, t: datetime) -> Any:
            return ev.add_comment(Comment(at_s, text, by.user_id, item_code or None), by, t)

        return [*_opening_steps(row), comment]

    return _guarded(platform, user, evaluation_id, expected, steps)


def review(
    platform: Platform,
    user: SessionUser,
    evaluation_id: int,
    expected: int,
    action: str,
    reason: str = "",
) -> dict[str, Any]:
    """Supervisor review (复核): ``approve``, ``return`` (with a reason) or ``publish``."""
    actions: dict[str, Step] = {
        "approve": lambda ev, by, t: ev.approve(by, t),
        "return": lambda ev, by, t: ev.return_for_rework(reason, by, t),
        "publish": lambda ev, by, t: ev.publish(by, t),
    }
    if action not in actions:
        raise FormError(f"action {action!r} must be one of {sorted(actions)}")
    return _guarded(platform, user, evaluation_id, expected, lambda row: [actions[action]])


def file_appeal(
    platform: Platform,
    user: SessionUser,
    evaluation_id: int,
    expected: int,
    reason: str,
    items: list[str],
) -> dict[str, Any]:
    """The agent appeals (申诉) the named items."""
    return _guarded(
        platform,
        user,
        evaluation_id,
        expected,
        lambda row: [lambda ev, by, t: ev.file_appeal(reason, items, by, t)],
    )


def assign_reviewer(
    platform: Platform, user: SessionUser, evaluation_id: int, expected: int, reviewer_id: int
) -> dict[str, Any]:
    """A supervisor names the re-reviewer (复议人) of the open appeal."""
    return _guarded(
        platform,
        user,
        evaluation_id,
        expected,
        lambda row: [lambda ev, by, t: ev.assign_reviewer(reviewer_id, by, t)],
    )


def decide_appeal(
    platform: Platform,
    user: SessionUser,
    evaluation_id: int,
    expected: int,
    decision: str,
    note: str,
    revised: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The re-reviewer decides: ``upheld`` (维持) or ``revised`` (改判, a new version)."""
    try:
        verdict = Decision(decision)
    except ValueError:
        raise FormError(f"decision {decision!r} must be 'upheld' or 'revised'") from None
    results = results_from_mapping(revised) if verdict is Decision.REVISED and revised else None
    return _guarded(
        platform,
        user,
        evaluation_id,
        expected,
        lambda row: [lambda ev, by, t: ev.decide_appeal(verdict, by, t, note, results)],
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
