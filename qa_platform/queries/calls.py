"""Read models of calls for the CLI and API (``qa calls list``, ``qa call show``).

``show_call`` assembles the sections the JSON contract in docs/cli.md lists: the call, its
flags, the pipeline's transcript and features, and its evaluations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallNotFound
from qa_platform.queries.call_analysis import pipeline_detail
from qa_platform.retention import parse_classes
from qa_platform.services.context import Platform
from scoring.services import call_scoring_detail
from storage.models import Call, CallFlag, Team


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None  # stored times read back UTC-aware


def call_summary(call: Call, team: str | None = None) -> dict[str, Any]:
    return {
        "id": call.id,
        "external_id": call.external_id,
        "agent": call.agent_code,
        "team": team,
        "direction": call.direction,
        "business_type": call.business_type,
        "started_at": _iso(call.started_at),
        "status": call.status,
        "duration_s": call.duration_s,
        "channels": call.channels,
        "sample_rate": call.sample_rate,
    }


def list_calls(
    platform: Platform, status: str | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    with platform.uow() as uow:
        stmt = select(Call, Team.name).outerjoin(Team, Call.team_id == Team.id)
        if status:
            stmt = stmt.where(Call.status == status)
        rows = uow.session.execute(stmt.order_by(Call.id).limit(limit)).all()
        return [call_summary(call, team) for call, team in rows]


def show_call(platform: Platform, call_id: int) -> dict[str, Any]:
    with platform.uow() as uow:
        row = uow.session.execute(
            select(Call, Team.name)
            .outerjoin(Team, Call.team_id == Team.id)
            .where(Call.id == call_id)
        ).first()
        if row is None:
            raise CallNotFound(f"no call {call_id}")
        call, team = row
        detail = call_summary(call, team) | {
            "error": call.error,
            "audio_format": call.audio_format,
            "original_filename": call.original_filename,
            "customer_phone": call.customer_phone_masked,
            "agent_channel": call.agent_channel,
            "satisfaction": call.satisfaction,
            "retention": {
                "classes": sorted(parse_classes(call.retention_class)),
                "retain_until": _iso(call.retain_until),
                "legal_hold": call.legal_hold,
                "purged_at": _iso(call.purged_at),
            },
            "flags": call_flags(uow.session, call.id),
        }
        detail.update(pipeline_detail(uow.session, call))
        detail.update(call_scoring_detail(uow.session, call))
        return detail


def call_flags(session: Session, call_id: int) -> list[dict[str, Any]]:
    """The call's flags (异常) with their evidence, by start time."""
    rows = session.scalars(
        select(CallFlag).where(CallFlag.call_id == call_id).order_by(CallFlag.start, CallFlag.type)
    )
    return [
        {
            "type": f.type,
            "severity": f.severity,
            "role": f.role,
            "start": f.start,
            "end": f.end,
            "evidence": f.evidence,
            "rule_set_version": f.rule_set_version,
            "evidence_key": f.evidence_key,
            "evidence_params": dict(f.evidence_params or {}),
        }
        for f in rows
    ]
