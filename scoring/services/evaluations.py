"""Evaluation and appeal commands (质检评价 / 申诉 / 复议): the one write path for every caller.

The CLI, the REST API and the web pages call these functions. Each command loads the
evaluation through the repository, applies a domain transition (``scoring.workflow``), saves
it with the ``row_version`` it loaded and writes one audit event, all in one transaction. A
caller that showed the evaluation to someone passes the ``row_version`` it showed as
``expected_version``: if the evaluation changed since, ``StaleForm`` is raised and nothing is
saved. If another transaction wins the race between load and save, the repository raises
``ConcurrentUpdateError``. The inspector's form may open, score and submit in one go: each step
is its own transition, saved and audited, and the steps commit together or not at all.

A command takes a storage ``UnitOfWork`` (the database) or any ``EvaluationUnit``
(``scoring.services.evaluation_unit``; tests use an in-memory one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from qa_platform.clock import utc_now
from qa_platform.domain.errors import Invalid, QaError
from scoring.scorecard import results_from_mapping
from scoring.services import autoqa_review
from scoring.services.common import ConcurrentUpdateError, load_user
from scoring.services.evaluation_reads import evaluation_detail, show_evaluation
from scoring.services.evaluation_unit import (
    EvaluationUnit,
    SqlEvaluationUnit,
    Step,
    Steps,
    Who,
    apply_steps_versioned,
)
from scoring.workflow import (
    APPEAL_REVIEWER_ROLES,
    SYSTEM,
    Actor,
    Comment,
    Decision,
    Evaluation,
    State,
    WorkflowEvent,
)
from storage.models_scoring import EvaluationRow
from storage.uow import UnitOfWork

__all__ = [
    "EvaluationUnit",
    "add_comment",
    "approve_evaluation",
    "assign_appeal_reviewer",
    "close_appeal_windows",
    "decide_appeal",
    "evaluation_detail",
    "file_appeal",
    "list_evaluations",
    "publish_evaluation",
    "reopen_evaluation",
    "return_evaluation",
    "save_scores",
    "show_evaluation",
    "start_evaluation",
    "submit_evaluation",
]


def _unit(uow: UnitOfWork | EvaluationUnit) -> EvaluationUnit:
    return uow if isinstance(uow, EvaluationUnit) else SqlEvaluationUnit(uow)


def _command(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    steps: Steps,
    at: datetime | None,
    expected_version: int | None,
    also: Callable[[EvaluationUnit, datetime], None] | None = None,
) -> dict[str, Any]:
    at = at or utc_now()
    with _unit(uow) as unit:
        event, row_version = apply_steps_versioned(
            unit, evaluation_id, actor, steps, at, expected_version
        )
        if also is not None:
            also(unit, at)
        unit.commit()
    return {
        "evaluation_id": evaluation_id,
        "action": event.action,
        "from": str(event.from_state),
        "state": str(event.to_state),
        "version": event.version,
        "row_version": row_version,
        "at": at.isoformat(),
        "details": dict(event.details),
    }


def _only(step: Step) -> Steps:
    return lambda ev: [step]


def _opening(ev: Evaluation) -> list[Step]:
    """The transition that opens the draft for editing, if it is not open yet."""
    if ev.state is State.ASSIGNED:
        return [lambda e, by, t: e.start(by, t)]
    if ev.state is State.RETURNED:
        return [lambda e, by, t: e.reopen(by, t)]
    return []


# ------------------------------------------------------------------------------ inspector
def start_evaluation(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Inspector opens an assigned evaluation (assigned → draft)."""
    return _command(
        uow, evaluation_id, actor, _only(lambda ev, by, t: ev.start(by, t)), at, expected_version
    )


def save_scores(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    scores: Mapping[str, Any],
    at: datetime | None = None,
    expected_version: int | None = None,
    *,
    open_draft: bool = False,
    submit: bool = False,
    override_reasons: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Save draft item scores ``{code: points | "na" | true/false for red lines}``.

    ``open_draft`` first opens an assigned or returned evaluation; ``submit`` submits after
    saving (the inspector's form: all steps commit together or none does). With
    ``override_reasons`` (``{code: reason}``, the page's form) the inspector's decision on each
    machine suggestion (机器建议采纳/改判) is stored in the same transaction; an override
    without a reason refuses the whole save.
    """
    results = results_from_mapping(scores)

    def steps(ev: Evaluation) -> list[Step]:
        opening = _opening(ev) if open_draft else []
        record: list[Step] = [lambda e, by, t: e.record_scores(results, by, t)]
        closing: list[Step] = [lambda e, by, t: e.submit(by, t)] if submit else []
        return [*opening, *record, *closing]

    also = None
    if override_reasons is not None:
        also = _suggestion_decisions(evaluation_id, actor, scores, dict(override_reasons))
    return _command(uow, evaluation_id, actor, steps, at, expected_version, also)


def _suggestion_decisions(
    evaluation_id: int, actor: Who, scores: Mapping[str, Any], reasons: Mapping[str, str]
) -> Callable[[EvaluationUnit, datetime], None]:
    """The step that records the inspector's decisions on the machine suggestions."""

    def record(unit: EvaluationUnit, at: datetime) -> None:
        if not isinstance(unit, SqlEvaluationUnit):
            raise Invalid("machine suggestion decisions need the database unit of work")
        session = unit.uow.session
        decisions = autoqa_review.decide(
            autoqa_review.suggestions_for(session, evaluation_id), scores, reasons
        )
        by = actor.user_id if isinstance(actor, Actor) else unit.user_id(actor)
        autoqa_review.write_decisions(session, evaluation_id, decisions, by, at)

    return record


def add_comment(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    at_s: float,
    text: str,
    item_code: str | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
    *,
    open_draft: bool = False,
) -> dict[str, Any]:
    """Pin a comment to second ``at_s`` of the call (``open_draft``: open the draft first)."""

    def steps(ev: Evaluation) -> list[Step]:
        def comment(e: Evaluation, by: Actor, t: datetime) -> WorkflowEvent:
            return e.add_comment(Comment(float(at_s), text, by.user_id, item_code), by, t)

        return [*(_opening(ev) if open_draft else []), comment]

    return _command(uow, evaluation_id, actor, steps, at, expected_version)


def submit_evaluation(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Submit for review (draft → submitted)."""
    return _command(
        uow, evaluation_id, actor, _only(lambda ev, by, t: ev.submit(by, t)), at, expected_version
    )


def reopen_evaluation(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Inspector reworks a returned evaluation (returned → draft)."""
    return _command(
        uow, evaluation_id, actor, _only(lambda ev, by, t: ev.reopen(by, t)), at, expected_version
    )


# ------------------------------------------------------------------------------ review
def return_evaluation(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    reason: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Review returns the evaluation to the inspector (退回)."""
    return _command(
        uow,
        evaluation_id,
        actor,
        _only(lambda ev, by, t: ev.return_for_rework(reason, by, t)),
        at,
        expected_version,
    )


def approve_evaluation(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Review approves (复核通过): version 1 is written."""
    return _command(
        uow, evaluation_id, actor, _only(lambda ev, by, t: ev.approve(by, t)), at, expected_version
    )


def publish_evaluation(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Publish to the agent; the appeal window opens."""
    return _command(
        uow, evaluation_id, actor, _only(lambda ev, by, t: ev.publish(by, t)), at, expected_version
    )


# ------------------------------------------------------------------------------ appeals
def file_appeal(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    reason: str,
    disputed_items: Iterable[str],
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """The evaluated agent appeals (申诉)."""
    items = list(disputed_items)
    return _command(
        uow,
        evaluation_id,
        actor,
        _only(lambda ev, by, t: ev.file_appeal(reason, items, by, t)),
        at,
        expected_version,
    )


def assign_appeal_reviewer(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    reviewer: int | str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """A supervisor names the reviewer (复议人) of the open appeal: an active inspector or
    supervisor who is neither the original inspector nor the agent (``Invalid`` otherwise;
    an unknown or inactive user is ``NotFound``)."""
    unit = _unit(uow)
    with unit:
        chosen = unit.actor(reviewer)
    if chosen.role not in APPEAL_REVIEWER_ROLES:
        raise ReviewerError.of("appeal.reviewer_role", reviewer=repr(reviewer), role=chosen.role)

    def assign(ev: Evaluation, by: Actor, t: datetime) -> WorkflowEvent:
        if chosen.user_id in (ev.inspector_id, ev.agent_id):
            raise ReviewerError.of(
                "appeal.reviewer_party", reviewer=repr(reviewer), evaluation=evaluation_id
            )
        return ev.assign_reviewer(chosen.user_id, by, t)

    return _command(unit, evaluation_id, actor, _only(assign), at, expected_version)


class ReviewerError(Invalid):
    """The chosen appeal re-reviewer may not re-review (wrong role, or a party to it)."""


def decide_appeal(
    uow: UnitOfWork | EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    decision: str,
    note: str = "",
    revised_scores: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Decide the open appeal (复议): ``upheld`` (维持) or ``revised`` (改判, a new version)."""
    try:
        verdict = Decision(decision)
    except ValueError:
        raise Invalid(f"decision {decision!r} must be 'upheld' or 'revised'") from None
    results = results_from_mapping(revised_scores) if revised_scores is not None else None
    return _command(
        uow,
        evaluation_id,
        actor,
        _only(lambda ev, by, t: ev.decide_appeal(verdict, by, t, note, results)),
        at,
        expected_version,
    )


def close_appeal_windows(uow: UnitOfWork, at: datetime | None = None) -> dict[str, Any]:
    """Make every published evaluation whose window has passed final (run periodically)."""
    at = at or utc_now()
    with uow:
        ids = uow.session.scalars(
            select(EvaluationRow.id)
            .where(EvaluationRow.state == str(State.PUBLISHED), EvaluationRow.appeal_deadline <= at)
            .order_by(EvaluationRow.id)
        ).all()
    closed, skipped = [], []
    steps = _only(lambda ev, by, t: ev.close_window(t, by))
    for evaluation_id in ids:
        try:
            _command(uow, evaluation_id, SYSTEM, steps, at, None)
            closed.append(evaluation_id)
        except (ConcurrentUpdateError, QaError):
            skipped.append(evaluation_id)
    return {"closed": closed, "skipped": skipped}


def list_evaluations(
    uow: UnitOfWork, inspector: int | str | None = None, state: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Work queue: evaluations by inspector and/or state."""
    with uow:
        stmt = select(EvaluationRow).order_by(EvaluationRow.id).limit(limit)
        if inspector is not None:
            stmt = stmt.where(EvaluationRow.inspector_id == load_user(uow.session, inspector).id)
        if state:
            stmt = stmt.where(EvaluationRow.state == state)
        return [
            {
                "evaluation_id": r.id,
                "call_id": r.call_id,
                "agent_id": r.agent_id,
                "inspector_id": r.inspector_id,
                "state": r.state,
                "total": r.total,
            }
            for r in uow.session.scalars(stmt)
        ]
