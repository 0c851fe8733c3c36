"""An inspector's calibration work (我的校准): the sessions they take part in and the scoring
form of one call, with what they already entered."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.queries.call_analysis import transcript_segments
from qa_platform.queries.calls import call_card, call_flags
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from scoring import services as scoring
from storage.models import Call
from storage.models_scoring import CalibrationScoreRow, CalibrationSessionRow, ScorecardRow


def _takes_part(row: CalibrationSessionRow, user_id: int) -> bool:
    return user_id in (row.inspector_ids or []) or row.reference_by == user_id


def _scored_calls(s: Session, session_id: int, user_id: int) -> set[int]:
    stmt = select(CalibrationScoreRow.call_id).where(
        CalibrationScoreRow.session_id == session_id,
        CalibrationScoreRow.inspector_id == user_id,
    )
    return set(s.scalars(stmt))


def my_calibrations(platform: Platform, user: SessionUser) -> list[dict[str, Any]]:
    """The sessions ``user`` takes part in, newest first, each call marked scored or not;
    a session is *done* once every one of its calls is scored."""
    with platform.uow() as uow:
        s = uow.session
        stmt = select(CalibrationSessionRow).order_by(CalibrationSessionRow.id.desc())
        out = []
        for row in s.scalars(stmt):
            if not _takes_part(row, user.id):
                continue
            scored = _scored_calls(s, row.id, user.id)
            calls = [{"call_id": c, "done": c in scored} for c in row.call_ids]
            out.append(
                {
                    "id": row.id,
                    "name": row.name,
                    "status": row.status,
                    "calls": calls,
                    "scored": sum(1 for c in calls if c["done"]),
                    "done": all(c["done"] for c in calls),
                }
            )
        return out


def _session_call(
    s: Session, session_id: int, call_id: int, user_id: int | None = None
) -> CalibrationSessionRow:
    """The session of a call; 404 for a call outside it or (with ``user_id``) for someone who
    does not take part (a supervisor who may read the session but is not its reference)."""
    row = s.get(CalibrationSessionRow, session_id)
    if row is None or (user_id is not None and not _takes_part(row, user_id)):
        raise scoring.NotFoundError(f"no calibration session {session_id}")
    if call_id not in row.call_ids:
        raise scoring.NotFoundError.of("calibration.no_call", call=call_id, session=session_id)
    return row


def calibration_scorecard(
    platform: Platform, user: SessionUser, session_id: int, call_id: int
) -> dict[str, Any]:
    """The scorecard definition a call of a session is scored against (404 for a call
    outside the session or a user who does not take part)."""
    with platform.uow() as uow:
        row = _session_call(uow.session, session_id, call_id, user.id)
        card = uow.session.get(ScorecardRow, row.scorecard_id)
        assert card is not None  # a foreign key
        return card.definition


def next_call(platform: Platform, session_id: int, call_id: int) -> int | None:
    """The call after ``call_id`` in the session's order, or None after the last."""
    with platform.uow() as uow:
        calls = list(_session_call(uow.session, session_id, call_id).call_ids)
        at = calls.index(call_id)
        return calls[at + 1] if at + 1 < len(calls) else None


def calibration_call_page(
    platform: Platform, user: SessionUser, session_id: int, call_id: int
) -> dict[str, Any]:
    """The scoring page of one call of a session: player, transcript, flags, the scorecard and
    the values ``user`` entered before (as the evaluation form takes them)."""
    with platform.uow() as uow:
        s = uow.session
        row = _session_call(s, session_id, call_id, user.id)
        card = s.get(ScorecardRow, row.scorecard_id)
        call = s.get(Call, call_id)
        if card is None or call is None:
            raise scoring.NotFoundError(f"no call {call_id}")
        calls, scored = list(row.call_ids), _scored_calls(s, session_id, user.id)
        return {
            "session": {
                "id": row.id,
                "name": row.name,
                "status": row.status,
                "reference": row.reference_by == user.id,
            },
            "call": call_card(s, call),
            "segments": transcript_segments(s, call_id, with_words=False),
            "flags": call_flags(s, call_id),
            "card": card.definition,
            "values": _my_values(s, session_id, user.id, call_id, card.definition),
            "calls": [{"call_id": c, "done": c in scored} for c in calls],
        }


def _red_lines(definition: dict[str, Any]) -> set[str]:
    return {i["code"] for sec in definition["sections"] for i in sec["items"] if i.get("red_line")}


def _my_values(
    s: Session, session_id: int, user_id: int, call_id: int, definition: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Stored values as ``{code: {score, na, violated}}`` (a red line's value is 1 or 0)."""
    rows: Iterable[CalibrationScoreRow] = s.scalars(
        select(CalibrationScoreRow).where(
            CalibrationScoreRow.session_id == session_id,
            CalibrationScoreRow.inspector_id == user_id,
            CalibrationScoreRow.call_id == call_id,
        )
    )
    red = _red_lines(definition)
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r.value is None:
            out[r.item_code] = {"na": True}
        elif r.item_code in red:
            out[r.item_code] = {"violated": r.value >= 1}
        else:
            out[r.item_code] = {"score": r.value}
    return out
