"""Calibration sessions (校准) and their agreement figures, as the calibration pages show them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from qa_platform.domain.errors import QaError
from qa_platform.queries.work_queues import user_names
from qa_platform.services.access import can_see_calibration
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from scoring import services as scoring
from scoring.services.autoqa_agreement import machine_human_agreement
from storage.models_scoring import CalibrationScoreRow, CalibrationSessionRow, ScorecardRow


def calibration_list(platform: Platform, user: SessionUser | None = None) -> list[dict[str, Any]]:
    """Calibration sessions, newest first; with ``user``, only those they may see (a
    supervisor: every call of the session in their supervision scope)."""
    with platform.uow() as uow:
        s = uow.session
        stmt = select(CalibrationSessionRow).order_by(CalibrationSessionRow.id.desc())
        rows = [r for r in s.scalars(stmt) if user is None or can_see_calibration(s, user, r.id)]
        return [
            {
                "id": r.id,
                "name": r.name,
                "calls": r.call_ids,
                "inspectors": r.inspector_ids,
                "status": r.status,
                "created_at": r.created_at,
            }
            for r in rows
        ]


def calibration_detail(platform: Platform, session_id: int) -> dict[str, Any]:
    """Agreement figures (kappa, ICC) of a session, each participant's progress, the item
    titles and people's names; empty figures until scores exist."""
    with platform.uow() as uow:
        s = uow.session
        row = s.get(CalibrationSessionRow, session_id)
        if row is None:
            raise scoring.NotFoundError(f"no calibration session {session_id}")
        card = s.get(ScorecardRow, row.scorecard_id)
        people = [*row.inspector_ids, *([row.reference_by] if row.reference_by else [])]
        info = {
            "id": row.id,
            "name": row.name,
            "status": row.status,
            "calls": row.call_ids,
            "inspectors": row.inspector_ids,
            "reference_by": row.reference_by,
            "names": user_names(s, people),
            "progress": _progress(s, row),
            "titles": _titles(card.definition if card else {}),
        }
    try:
        report = scoring.calibration_report(platform.uow(), session_id)
    except QaError as exc:
        report = {"items": [], "inspectors": [], "overall": None, "error": str(exc)}
    return {"session": info, "report": report}


def _progress(s: Session, row: CalibrationSessionRow) -> dict[int, int]:
    """Calls scored so far by each participant (and the reference)."""
    stmt = (
        select(CalibrationScoreRow.inspector_id, func.count(distinct(CalibrationScoreRow.call_id)))
        .where(CalibrationScoreRow.session_id == row.id)
        .group_by(CalibrationScoreRow.inspector_id)
    )
    return {int(uid): int(n) for uid, n in s.execute(stmt)}


def _titles(definition: Mapping[str, Any]) -> dict[str, str]:
    return {i["code"]: i["title"] for sec in definition.get("sections", []) for i in sec["items"]}


def autoqa_agreement_table(platform: Platform, period: str | None) -> dict[str, Any]:
    """Machine–human agreement of auto-QA (机器与人工一致性) for ``period`` (YYYY-MM; default
    the current month in the centre's time zone), as ``qa autoqa agreement`` reports it, with
    the active scorecard's item titles."""
    zone = ZoneInfo(platform.settings.centre_timezone)
    month = period or platform.clock.now().astimezone(zone).strftime("%Y-%m")
    report = machine_human_agreement(platform, month)
    with platform.uow() as uow:
        cards = uow.session.scalars(
            select(ScorecardRow).where(ScorecardRow.active).order_by(ScorecardRow.id)
        )
        titles = {code: t for card in cards for code, t in _titles(card.definition).items()}
    return report.to_dict() | {"titles": titles}
