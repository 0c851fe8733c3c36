"""Calibration sessions (校准) and their agreement figures, as the calibration pages show them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from qa_platform.domain.errors import QaError
from qa_platform.services.access import can_see_calibration
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from scoring import services as scoring
from storage.models_scoring import CalibrationSessionRow


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
    """Agreement figures (kappa, ICC) of a session; empty figures until scores exist."""
    with platform.uow() as uow:
        row = uow.session.get(CalibrationSessionRow, session_id)
        if row is None:
            raise scoring.NotFoundError(f"no calibration session {session_id}")
        info = {
            "id": row.id,
            "name": row.name,
            "calls": row.call_ids,
            "inspectors": row.inspector_ids,
        }
    try:
        report = scoring.calibration_report(platform.uow(), session_id)
    except QaError as exc:
        report = {"items": [], "inspectors": [], "error": str(exc)}
    return {"session": info, "report": report}
