"""Calibration sessions (校准): several inspectors score the same calls; agreement is measured."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.errors import Conflict
from scoring.calibration import CalibrationError, CalibrationScore, analyse_session
from scoring.scorecard import ItemResult, results_from_mapping
from scoring.services.common import (
    NotFoundError,
    actor_for,
    audit,
    load_user,
    require_supervisor,
)
from scoring.services.scorecards import card_of_row, scorecard_row
from scoring.workflow import ActorRole
from storage.models import Call, User
from storage.models_scoring import CalibrationScoreRow, CalibrationSessionRow, ScorecardRow
from storage.repositories.scopes import supervised_team_ids
from storage.uow import UnitOfWork


def create_calibration(
    uow: UnitOfWork,
    name: str,
    call_ids: Iterable[int],
    inspector_ids: Iterable[int],
    actor: int | str,
    reference_by: int | None = None,
    scorecard: str | None = None,
) -> dict[str, Any]:
    """Open a calibration session (校准) over the same calls for several inspectors."""
    calls, inspectors = sorted(set(call_ids)), sorted(set(inspector_ids))
    if len(inspectors) < 2 or not calls:
        raise CalibrationError("a calibration session needs at least 2 inspectors and 1 call")
    with uow:
        s = uow.session
        by = actor_for(s, actor)
        require_supervisor(by, "run a calibration session")
        _check_participants(s, inspectors, reference_by)
        # the supervisor's scope (storage/repositories/scopes.py): a supervisor reaches the
        # calls of the agent teams they oversee; unknown and out-of-scope calls read the same
        teams = None
        if by.role is ActorRole.SUPERVISOR:
            teams = supervised_team_ids(s, by.user_id, load_user(s, by.user_id).team_id)
        visible = select(Call.id).where(Call.id.in_(calls))
        if teams is not None:
            visible = visible.where(Call.team_id.in_(sorted(teams) or [-1]))
        missing = set(calls) - set(s.scalars(visible))
        if missing:
            raise NotFoundError(f"calls {sorted(missing)} do not exist")
        card = scorecard_row(s, scorecard)
        row = CalibrationSessionRow(
            name=name,
            scorecard_id=card.id,
            call_ids=calls,
            inspector_ids=inspectors,
            reference_by=reference_by,
            status="open",
            created_by=by.user_id,
            created_at=utc_now(),
        )
        s.add(row)
        s.flush()
        audit(
            s,
            by.user_id,
            "calibration.create",
            "calibration",
            row.id,
            {"calls": calls, "inspectors": inspectors, "reference_by": reference_by},
        )
        uow.commit()
        return {"session_id": row.id, "name": name, "call_ids": calls, "inspector_ids": inspectors}


def _check_participants(s: Session, inspectors: list[int], reference_by: int | None) -> None:
    """Participants are active inspectors; the reference an active inspector or supervisor."""
    for user_id in inspectors:
        row = s.get(User, user_id)
        if row is None or not row.active:
            raise NotFoundError(f"participant {user_id} is not an active user")
        if row.role != "inspector":
            raise CalibrationError(
                f"participant {user_id} is a {row.role}; calibration participants are inspectors"
            )
    if reference_by is not None:
        row = s.get(User, reference_by)
        if row is None or not row.active:
            raise NotFoundError(f"reference_by {reference_by} is not an active user")
        if row.role not in ("inspector", "supervisor"):
            raise CalibrationError(
                f"reference_by {reference_by} is a {row.role}; the reference is an inspector "
                "or a supervisor"
            )


class CalibrationClosed(Conflict):
    """The calibration session is closed: its scores no longer change (HTTP 409)."""


def record_calibration_scores(
    uow: UnitOfWork,
    session_id: int,
    actor: int | str,
    call_id: int,
    scores: Mapping[str, Any],
    complete: bool = False,
) -> dict[str, Any]:
    """A participant (or the reference supervisor) scores one call; re-scoring replaces.

    ``complete`` requires every scorecard item (the browser form sends them all)."""
    with uow:
        s = uow.session
        row = _calibration(s, session_id)
        if row.status == "closed":
            raise CalibrationClosed.of("calibration.closed", session=session_id)
        by = actor_for(s, actor)
        is_ref = row.reference_by == by.user_id
        if by.user_id not in row.inspector_ids and not is_ref:
            raise CalibrationError(
                f"user {by.user_id} is not a participant of calibration {session_id}"
            )
        if call_id not in row.call_ids:
            raise CalibrationError(f"call {call_id} is not part of calibration {session_id}")
        card = card_of_row(s.get(ScorecardRow, row.scorecard_id))  # type: ignore[arg-type]
        results = card.check_results(results_from_mapping(scores), complete=complete)
        old = s.scalars(
            select(CalibrationScoreRow).where(
                CalibrationScoreRow.session_id == session_id,
                CalibrationScoreRow.inspector_id == by.user_id,
                CalibrationScoreRow.call_id == call_id,
            )
        ).all()
        for o in old:
            s.delete(o)
        s.flush()
        now = utc_now()
        s.add_all(
            CalibrationScoreRow(
                session_id=session_id,
                inspector_id=by.user_id,
                call_id=call_id,
                item_code=code,
                value=_calibration_value(r),
                is_reference=is_ref,
                created_at=now,
            )
            for code, r in results.items()
        )
        audit(
            s,
            by.user_id,
            "calibration.score",
            "calibration",
            session_id,
            {"call_id": call_id, "items": sorted(results), "reference": is_ref},
        )
        uow.commit()
        return {
            "session_id": session_id,
            "call_id": call_id,
            "items": len(results),
            "reference": is_ref,
        }


def close_calibration(uow: UnitOfWork, session_id: int, actor: int | str) -> dict[str, Any]:
    """Close a session (结束校准): its scores are frozen; closing twice is a conflict."""
    with uow:
        s = uow.session
        row = _calibration(s, session_id)
        by = actor_for(s, actor)
        require_supervisor(by, "close a calibration session")
        if row.status == "closed":
            raise CalibrationClosed.of("calibration.closed", session=session_id)
        row.status = "closed"
        audit(s, by.user_id, "calibration.close", "calibration", session_id, {})
        uow.commit()
        return {"session_id": session_id, "status": "closed"}


def _calibration_value(result: ItemResult) -> float | None:
    if result.na:
        return None
    return float(result.violated) if result.score is None else float(result.score)


def _calibration(s: Session, session_id: int) -> CalibrationSessionRow:
    row = s.get(CalibrationSessionRow, session_id)
    if row is None:
        raise NotFoundError(f"no calibration session {session_id}")
    return row


def calibration_report(uow: UnitOfWork, session_id: int) -> dict[str, Any]:
    """Agreement per item (Fleiss, ICC(2,1), mean pairwise Cohen) and deviation per inspector."""
    with uow:
        s = uow.session
        row = _calibration(s, session_id)
        participants, reference = session_scores(s, session_id)
        report = analyse_session(participants, reference or None)
        data = {
            "session_id": session_id,
            "reference_source": report.reference_source,
            "items": [i.__dict__ for i in report.items],
            "inspectors": [d.__dict__ for d in report.inspectors],
            "overall": report.overall.__dict__ if report.overall else None,
        }
        row.report = data
        audit(
            s, None, "calibration.report", "calibration", session_id, {"items": len(report.items)}
        )
        uow.commit()
        return data


def session_scores(
    s: Session, session_id: int
) -> tuple[list[CalibrationScore], dict[tuple[int, str], float]]:
    """A calibration session's scores: the participants' and the reference (标准答案) by
    (call, item), as ``analyse_session`` takes them."""
    rows = s.scalars(
        select(CalibrationScoreRow).where(CalibrationScoreRow.session_id == session_id)
    ).all()
    participants = [
        CalibrationScore(x.inspector_id, x.call_id, x.item_code, x.value)
        for x in rows
        if not x.is_reference
    ]
    reference = {
        (x.call_id, x.item_code): x.value for x in rows if x.is_reference and x.value is not None
    }
    return participants, reference
