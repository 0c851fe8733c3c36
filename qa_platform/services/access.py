"""Object-level access (数据权限) for the web layer, and the scoped lists each role sees.

Rules: admins see everything; supervisors (质检主管) the calls of the agent teams in their
supervision scope (监管范围, ``storage.repositories.scopes``: a set of teams or the whole
centre; without a scope, their own team, or the whole centre when they have none); inspectors (质检员) the calls assigned to them, as evaluator, appeal
reviewer or calibration participant; agents (客服代表) their own calls and their published results.
A denial is audited by the caller and answered as "not found".
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.models import AuditEvent, Call, User
from storage.models_coaching import CoachingTaskRow
from storage.models_scoring import AppealRow, CalibrationSessionRow, EvaluationRow
from storage.repositories.scopes import supervised_team_ids

AGENT_VISIBLE_STATES = ("published", "appealed", "final")


SelectT = TypeVar("SelectT", bound=Select)


def _inspector_call_ids(s: Session, user: SessionUser) -> set[int]:
    ids = set(s.scalars(select(EvaluationRow.call_id).where(EvaluationRow.inspector_id == user.id)))
    ids |= set(
        s.scalars(
            select(EvaluationRow.call_id)
            .join(AppealRow, AppealRow.evaluation_id == EvaluationRow.id)
            .where(AppealRow.reviewer_id == user.id)
        )
    )
    for row in s.scalars(select(CalibrationSessionRow)):
        if user.id in (row.inspector_ids or []) or row.reference_by == user.id:
            ids |= set(row.call_ids or [])
    return ids


def supervisor_teams(s: Session, user: SessionUser) -> frozenset[int] | None:
    """The agent teams ``user`` oversees as a supervisor; ``None``: the whole centre."""
    return supervised_team_ids(s, user.id, user.team_id)


def _in_supervisor_scope(s: Session, user: SessionUser, stmt: SelectT) -> SelectT:
    teams = supervisor_teams(s, user)
    return stmt if teams is None else stmt.where(Call.team_id.in_(sorted(teams) or [-1]))


def scope_calls(s: Session, user: SessionUser, stmt: SelectT) -> SelectT:
    """Restrict a query over ``Call`` to what ``user`` may see."""
    if user.role == "admin":
        return stmt
    if user.role == "supervisor":
        return _in_supervisor_scope(s, user, stmt)
    if user.role == "agent":
        return stmt.where(Call.agent_id == user.id)
    if user.role == "inspector":
        return stmt.where(Call.id.in_(sorted(_inspector_call_ids(s, user)) or [-1]))
    return stmt.where(Call.id == -1)


def can_see_call(s: Session, user: SessionUser, call_id: int) -> bool:
    """True when the call exists and ``user`` may see it."""
    return s.scalar(scope_calls(s, user, select(Call.id).where(Call.id == call_id))) is not None


def can_see_evaluation(s: Session, user: SessionUser, evaluation_id: int) -> bool:
    """True when the evaluation exists and ``user`` may see it."""
    row = s.get(EvaluationRow, evaluation_id)
    if row is None:
        return False
    if user.role == "agent":
        return row.agent_id == user.id and row.state in AGENT_VISIBLE_STATES
    if user.role == "inspector":
        reviewer = s.scalar(
            select(AppealRow.id).where(
                AppealRow.evaluation_id == row.id, AppealRow.reviewer_id == user.id
            )
        )
        return row.inspector_id == user.id or reviewer is not None
    return can_see_call(s, user, row.call_id)


def can_see_calibration(s: Session, user: SessionUser, session_id: int) -> bool:
    """True when the calibration session (校准) exists and ``user`` may see it: a supervisor
    when every call of the session is in their scope, an inspector who takes part in it."""
    row = s.get(CalibrationSessionRow, session_id)
    if row is None:
        return False
    if user.role == "admin":
        return True
    if user.role == "inspector":
        return user.id in (row.inspector_ids or []) or row.reference_by == user.id
    if user.role != "supervisor":
        return False
    calls = set(row.call_ids or [])
    seen = s.scalar(
        scope_calls(s, user, select(func.count(Call.id)).where(Call.id.in_(sorted(calls))))
    )
    return bool(calls) and seen == len(calls)


def scope_coaching(s: Session, user: SessionUser, stmt: SelectT) -> SelectT:
    """Restrict a query over ``CoachingTaskRow`` to ``user``: an agent their own tasks, a
    supervisor the tasks of the teams they oversee and those they lead, an admin all."""
    if user.role == "admin":
        return stmt
    if user.role == "agent":
        return stmt.where(CoachingTaskRow.agent_id == user.id)
    if user.role == "supervisor":
        teams = supervisor_teams(s, user)
        if teams is None:
            return stmt
        return stmt.where(
            or_(
                CoachingTaskRow.team_id.in_(sorted(teams) or [-1]),
                CoachingTaskRow.lead_id == user.id,
            )
        )
    return stmt.where(CoachingTaskRow.id == -1)


def can_see_coaching(s: Session, user: SessionUser, task_id: int) -> bool:
    """True when the coaching task (辅导) exists and ``user`` may see it."""
    stmt = select(CoachingTaskRow.id).where(CoachingTaskRow.id == task_id)
    return s.scalar(scope_coaching(s, user, stmt)) is not None


CHECKS = {
    "call": can_see_call,
    "evaluation": can_see_evaluation,
    "calibration": can_see_calibration,
    "coaching": can_see_coaching,
}


DENIALS_AUDITED_PER_MINUTE = 20  # per actor; a scan of ids must not flood the audit log


def check_object(platform: Platform, user: SessionUser, kind: str, object_id: int) -> bool:
    """Run the object check; a denial is written to the audit log (``access.denied``), at most
    ``DENIALS_AUDITED_PER_MINUTE`` rows per actor per minute."""
    with platform.uow() as uow:
        if CHECKS[kind](uow.session, user, object_id):
            return True
        since = platform.clock.now() - timedelta(minutes=1)
        recent = uow.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "access.denied",
                AuditEvent.actor == user.actor,
                AuditEvent.at >= since,
            )
        )
        if (recent or 0) >= DENIALS_AUDITED_PER_MINUTE:
            return False
        append_audit(
            uow.session,
            actor=user.actor,
            action="access.denied",
            object_type=kind,
            object_id=object_id,
            details={"role": user.role},
            at=platform.clock.now(),
        )
        uow.commit()
        return False


def record_disclosure(
    platform: Platform,
    user: SessionUser,
    action: str,
    object_type: str,
    object_id: int,
    details: dict[str, object] | None = None,
) -> None:
    """One audit row for showing protected content (a transcript, a report export) to ``user``."""
    with platform.uow() as uow:
        append_audit(
            uow.session,
            actor=user.actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            details={"role": user.role, **(details or {})},
            at=platform.clock.now(),
        )
        uow.commit()


def team_user_ids(s: Session, user: SessionUser) -> list[int] | None:
    """Users of the teams a supervisor oversees (None: everyone)."""
    teams = None if user.role == "admin" else supervisor_teams(s, user)
    if teams is None:
        return None
    return list(s.scalars(select(User.id).where(User.team_id.in_(sorted(teams) or [-1]))))


def scope_evaluations(s: Session, user: SessionUser, stmt: SelectT) -> SelectT:
    """Restrict a query over ``EvaluationRow`` (joined with ``Call``) to ``user``."""
    if user.role == "agent":
        return stmt.where(
            EvaluationRow.agent_id == user.id, EvaluationRow.state.in_(AGENT_VISIBLE_STATES)
        )
    if user.role == "inspector":
        reviewer_of = select(AppealRow.evaluation_id).where(AppealRow.reviewer_id == user.id)
        return stmt.where(
            or_(EvaluationRow.inspector_id == user.id, EvaluationRow.id.in_(reviewer_of))
        )
    if user.role == "supervisor":
        return _in_supervisor_scope(s, user, stmt)
    return stmt
