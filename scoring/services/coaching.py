"""The coaching loop (辅导, seeds/000 7.2.3 b, 7.4.3 a): a published result below the pass mark
or with a red line opens a coaching task for the agent's team lead; the agent acknowledges the
result (确认); the lead records what was done (辅导记录); the agent's next sampled call
published after the coaching is the follow-up check (跟进复查) that closes the task.

Tasks open and close by themselves from the evaluation workflow (:func:`react`, called by the
evaluation unit for every transition, so the CLI, the API and the pages share it); people act on
them only through the functions below.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.errors import Conflict, Forbidden, Invalid, NotFound
from qa_platform.services.access import scope_coaching
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from scoring.services.common import audit
from scoring.workflow import WorkflowEvent
from storage.models import Call, Team, User
from storage.models_coaching import CoachingTaskRow
from storage.models_scoring import EvaluationRow, EvaluationVersionRow, ScorecardRow

OPEN, COACHED, CLOSED, WITHDRAWN = "open", "coached", "closed", "withdrawn"
STATES = (OPEN, COACHED, CLOSED, WITHDRAWN)
MAX_NOTE = 2000


class CoachingError(Invalid):
    """A coaching action with bad input (an empty or too long note)."""


class CoachingConflict(Conflict):
    """The task is not in a state that allows the action, or changed since it was shown."""


@dataclass(frozen=True, slots=True)
class CoachingTask:
    """A coaching task as pages and ``qa coaching`` show it."""

    id: int
    evaluation_id: int
    call_id: int
    agent_id: int
    agent: str
    team: str | None
    lead: str | None
    reasons: tuple[str, ...]
    red_lines: tuple[str, ...]  # titles of the red-line items the reasons name (红线项)
    total: float
    state: str
    opened_at: str
    acknowledged_at: str | None
    coached_by: str | None
    coached_at: str | None
    coaching_note: str
    follow_up_evaluation_id: int | None
    follow_up_passed: bool | None
    closed_at: str | None
    row_version: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``qa coaching`` (docs/cli.md)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["reasons"], out["red_lines"] = list(self.reasons), list(self.red_lines)
        return out


# ------------------------------------------------------------------------------ reactions
def react(session: Session, event: WorkflowEvent) -> None:
    """Open, withdraw or follow up coaching tasks after an evaluation transition."""
    if event.action == "publish":
        _after_result(session, event.evaluation_id, event.at)
        _follow_up(session, event.evaluation_id, event.at)
    elif event.action == "decide_appeal" and event.details.get("decision") == "revised":
        _after_result(session, event.evaluation_id, event.at)


def _current(session: Session, evaluation_id: int) -> EvaluationVersionRow | None:
    return session.scalars(
        select(EvaluationVersionRow)
        .where(EvaluationVersionRow.evaluation_id == evaluation_id)
        .order_by(EvaluationVersionRow.number.desc())
        .limit(1)
    ).first()


def reasons_of(version: EvaluationVersionRow) -> list[str]:
    """Why a result needs coaching: below the pass mark, and each red line violated."""
    reasons = [] if version.passed else ["below_pass"]
    return reasons + [f"red_line:{code}" for code in version.red_line_violations or []]


def _after_result(session: Session, evaluation_id: int, at: datetime) -> None:
    version = _current(session, evaluation_id)
    if version is None:
        return
    reasons = reasons_of(version)
    task = session.scalars(
        select(CoachingTaskRow).where(CoachingTaskRow.evaluation_id == evaluation_id)
    ).first()
    if task is None and reasons:
        _open(session, evaluation_id, version, reasons, at)
    elif task is not None and task.state in (OPEN, COACHED):
        if reasons:
            task.reasons, task.total = reasons, version.total
        else:  # a revised result that passes needs no coaching
            task.state, task.closed_at = WITHDRAWN, at
        task.row_version += 1
        audit(
            session,
            None,
            f"coaching.{'update' if reasons else 'withdraw'}",
            "coaching",
            task.id,
            {"evaluation": evaluation_id, "reasons": reasons},
            at,
        )


def _open(
    session: Session,
    evaluation_id: int,
    version: EvaluationVersionRow,
    reasons: list[str],
    at: datetime,
) -> None:
    ev = session.get(EvaluationRow, evaluation_id)
    assert ev is not None
    agent = session.get(User, ev.agent_id)
    team = session.get(Team, agent.team_id) if agent and agent.team_id else None
    task = CoachingTaskRow(
        evaluation_id=evaluation_id,
        call_id=ev.call_id,
        agent_id=ev.agent_id,
        team_id=team.id if team else None,
        lead_id=team.lead_id if team else None,
        reasons=reasons,
        total=version.total,
        state=OPEN,
        opened_at=at,
        coaching_note="",
        row_version=1,
        details={},
    )
    session.add(task)
    session.flush()
    audit(
        session,
        None,
        "coaching.open",
        "coaching",
        task.id,
        {"evaluation": evaluation_id, "reasons": reasons},
        at,
    )


def _follow_up(session: Session, evaluation_id: int, at: datetime) -> None:
    """A coached task of the agent is checked on this later call (started after the coaching)."""
    ev = session.get(EvaluationRow, evaluation_id)
    call = session.get(Call, ev.call_id) if ev else None
    version = _current(session, evaluation_id)
    if ev is None or call is None or version is None:
        return
    tasks = session.scalars(
        select(CoachingTaskRow).where(
            CoachingTaskRow.agent_id == ev.agent_id,
            CoachingTaskRow.state == COACHED,
            CoachingTaskRow.evaluation_id != evaluation_id,
        )
    ).all()
    for task in tasks:
        if task.coached_at is None or call.started_at < task.coached_at:
            continue
        task.follow_up_evaluation_id, task.follow_up_passed = evaluation_id, bool(version.passed)
        task.state, task.closed_at = CLOSED, at
        task.row_version += 1
        audit(
            session,
            None,
            "coaching.follow_up",
            "coaching",
            task.id,
            {"evaluation": evaluation_id, "passed": bool(version.passed)},
            at,
        )


# ------------------------------------------------------------------------------ people
def _visible(session: Session, user: SessionUser) -> Any:
    return scope_coaching(session, user, select(CoachingTaskRow))


def list_tasks(
    platform: Platform, user: SessionUser, state: str | None = None, limit: int = 200
) -> list[CoachingTask]:
    """The coaching tasks ``user`` may see, newest first (``state`` one of :data:`STATES`)."""
    if state is not None and state not in STATES:
        raise CoachingError.of("coaching.state", state=state, states=", ".join(STATES))
    with platform.uow() as uow:
        stmt = _visible(uow.session, user).order_by(CoachingTaskRow.id.desc()).limit(limit)
        if state:
            stmt = stmt.where(CoachingTaskRow.state == state)
        rows = uow.session.scalars(stmt).all()
        return [_view(uow.session, row) for row in rows]


def _get(session: Session, user: SessionUser, task_id: int) -> CoachingTaskRow:
    row = session.scalars(_visible(session, user).where(CoachingTaskRow.id == task_id)).first()
    if row is None:
        raise NotFound.of("coaching.not_found", task=task_id)
    return row


def show_task(platform: Platform, user: SessionUser, task_id: int) -> CoachingTask:
    with platform.uow() as uow:
        return _view(uow.session, _get(uow.session, user, task_id))


def _check_version(row: CoachingTaskRow, expected: int | None) -> None:
    if expected is not None and expected != row.row_version:
        raise CoachingConflict.of(
            "coaching.stale", task=row.id, expected=expected, now=row.row_version
        )


def acknowledge(
    platform: Platform, user: SessionUser, task_id: int, at: datetime | None = None
) -> CoachingTask:
    """The agent confirms having read the result (确认); once."""
    at = at or utc_now()
    with platform.uow() as uow:
        row = _get(uow.session, user, task_id)
        if user.role != "agent" or row.agent_id != user.id:
            raise Forbidden.of("coaching.agent_only", task=task_id)
        if row.acknowledged_at is None:
            row.acknowledged_at = at
            row.row_version += 1
            audit(uow.session, user.id, "coaching.acknowledge", "coaching", row.id, {}, at)
        uow.commit()
        return _view(uow.session, row)


def record_coaching(
    platform: Platform,
    user: SessionUser,
    task_id: int,
    note: str,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> CoachingTask:
    """The lead (or a supervisor over the team) records what was done (辅导记录)."""
    at = at or utc_now()
    text = (note or "").strip()
    if not text:
        raise CoachingError.of("coaching.note_required", task=task_id)
    if len(text) > MAX_NOTE:
        raise CoachingError.of("coaching.note_too_long", task=task_id, limit=MAX_NOTE)
    with platform.uow() as uow:
        row = _get(uow.session, user, task_id)
        if user.role not in ("supervisor", "admin"):
            raise Forbidden.of("coaching.lead_only", task=task_id)
        _check_version(row, expected_version)
        if row.state != OPEN:
            raise CoachingConflict.of("coaching.not_open", task=task_id, state=row.state)
        row.state, row.coached_by, row.coached_at, row.coaching_note = COACHED, user.id, at, text
        row.row_version += 1
        audit(  # the note's length only: the audit log is never erased, the note is at purge
            uow.session,
            user.id,
            "coaching.coach",
            "coaching",
            row.id,
            {"note_chars": len(text)},
            at,
        )
        uow.commit()
        return _view(uow.session, row)


def _name(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return (user.display_name or user.username) if user else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _red_line_titles(session: Session, row: CoachingTaskRow) -> tuple[str, ...]:
    codes = [r.split(":", 1)[1] for r in row.reasons or () if r.startswith("red_line:")]
    if not codes:
        return ()
    ev = session.get(EvaluationRow, row.evaluation_id)
    card = session.get(ScorecardRow, ev.scorecard_id) if ev else None
    titles = {
        item.get("code"): item.get("title") or item.get("code")
        for section in (card.definition.get("sections") or [] if card else [])
        for item in section.get("items") or []
    }
    return tuple(str(titles.get(code, code)) for code in codes)


def _view(session: Session, row: CoachingTaskRow) -> CoachingTask:
    team = session.get(Team, row.team_id) if row.team_id else None
    return CoachingTask(
        id=row.id,
        evaluation_id=row.evaluation_id,
        call_id=row.call_id,
        agent_id=row.agent_id,
        agent=_name(session, row.agent_id) or "",
        team=team.name if team else None,
        lead=_name(session, row.lead_id),
        reasons=tuple(row.reasons or ()),
        red_lines=_red_line_titles(session, row),
        total=row.total,
        state=row.state,
        opened_at=row.opened_at.isoformat(),
        acknowledged_at=_iso(row.acknowledged_at),
        coached_by=_name(session, row.coached_by),
        coached_at=_iso(row.coached_at),
        coaching_note=row.coaching_note,
        follow_up_evaluation_id=row.follow_up_evaluation_id,
        follow_up_passed=row.follow_up_passed,
        closed_at=_iso(row.closed_at),
        row_version=row.row_version,
    )
