"""Read models of calls for the CLI and API (``qa calls list``, ``qa call show``).

``show_call`` assembles the sections the JSON contract in docs/cli.md lists: the call, its
flags, the pipeline's transcript and features, and its evaluations.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from qa_platform.domain.calls import CallNotFound
from qa_platform.queries.call_analysis import pipeline_detail, transcript_segments
from qa_platform.queries.emotion import emotion_curve
from qa_platform.retention import parse_classes
from qa_platform.services.access import scope_calls
from qa_platform.services.auth import SessionUser
from qa_platform.services.complaints import cases_for_call
from qa_platform.services.context import Platform
from scoring.services import call_scoring_detail
from scoring.services.autoqa_reads import auto_evaluation_detail
from storage.models import Call, CallFlag, Team
from storage.models_pipeline import TranscriptSegment
from storage.models_scoring import EvaluationRow


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
        "channel": call.channel,
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
        detail["complaints"] = cases_for_call(uow.session, call.id, platform.clock.now())
        detail["auto_evaluation"] = auto_evaluation_detail(uow.session, call.id)
        detail["customer_emotion"] = emotion_curve(uow.session, call.id)
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


def call_card(s: Session, call: Call) -> dict[str, Any]:
    """The call as its page shows it (metadata, retention, legal hold)."""
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
        "channel": call.channel,
        "audio_format": call.audio_format,
        "legal_hold": call.legal_hold,
        "retain_until": call.retain_until,
        "retention_class": call.retention_class,
        "purged": call.purged_at is not None,
        "emotion": emotion_curve(s, call.id),  # the player's customer emotion curve
    }


AGENT_VISIBLE_STATES = ("published", "appealed", "final")  # totals an agent was shown


def visible_totals(user: SessionUser | None) -> list[Any]:
    """Conditions on ``EvaluationRow`` for the totals ``user`` may see or filter by: agents only
    published (or later) results, inspectors only their own evaluations, staff everything."""
    if user is None or user.role in ("admin", "supervisor"):
        return []
    if user.role == "inspector":
        return [EvaluationRow.inspector_id == user.id]
    return [EvaluationRow.state.in_(AGENT_VISIBLE_STATES)]


def _total_visible(e: EvaluationRow, user: SessionUser | None) -> bool:
    if user is None or user.role in ("admin", "supervisor"):
        return True
    if user.role == "inspector":
        return e.inspector_id == user.id
    return e.state in AGENT_VISIBLE_STATES


def call_page(
    platform: Platform, call_id: int, viewer: SessionUser | None = None
) -> dict[str, Any]:
    """A call with its transcript and flags (the caller checked access); evaluation totals
    only where ``viewer`` may see them (an inspector: their own evaluations)."""
    with platform.uow() as uow:
        s = uow.session
        call = s.get(Call, call_id)
        if call is None:
            raise CallNotFound(f"no call {call_id}")
        evals = s.scalars(select(EvaluationRow).where(EvaluationRow.call_id == call_id)).all()
        return {
            "call": call_card(s, call),
            "segments": transcript_segments(s, call_id, with_words=False),
            "flags": call_flags(s, call_id),
            "evaluations": [
                {
                    "id": e.id,
                    "state": e.state,
                    "total": e.total if _total_visible(e, viewer) else None,
                }
                for e in evals
            ],
            "complaints": cases_for_call(s, call_id, platform.clock.now()),
        }


def search_calls(
    platform: Platform,
    user: SessionUser,
    q: Mapping[str, Any],
    limit: int = 200,
    after: tuple[datetime, int] | None = None,
) -> list[dict[str, Any]]:
    """Call search (通话检索) by date, agent, team, status, flag type, score range and transcript
    words, newest first (ties by id), in ``user``'s scope. ``after`` is the ``(started_at, id)``
    of the last row already read: the rows after it (keyset pagination, the API's cursor)."""
    stmt = select(Call, Team.name).outerjoin(Team, Team.id == Call.team_id)
    conds = _search_conditions(q, visible_totals(user))
    if after is not None:
        at, last_id = after
        conds.append(or_(Call.started_at < at, and_(Call.started_at == at, Call.id < last_id)))
    with platform.uow() as uow:
        s = uow.session
        stmt = (
            scope_calls(s, user, stmt.where(*conds))
            .order_by(Call.started_at.desc(), Call.id.desc())
            .limit(limit)
        )
        rows = s.execute(stmt).all()
        scores = dict(
            s.execute(
                select(EvaluationRow.call_id, func.max(EvaluationRow.total))
                .where(EvaluationRow.call_id.in_([c.id for c, _ in rows] or [-1]))
                .where(*visible_totals(user))
                .group_by(EvaluationRow.call_id)
            ).all()
        )
        return [
            {
                "id": c.id,
                "external_id": c.external_id,
                "started_at": c.started_at,
                "agent_code": c.agent_code,
                "team": team,
                "direction": c.direction,
                "business_type": c.business_type,
                "duration_s": c.duration_s,
                "status": c.status,
                "score": scores.get(c.id),
            }
            for c, team in rows
        ]


def _search_conditions(q: Mapping[str, Any], visible: list[Any]) -> list[Any]:
    conds: list[Any] = []
    if q.get("date_from"):
        conds.append(Call.started_at >= q["date_from"])
    if q.get("date_to"):
        conds.append(Call.started_at < q["date_to"])
    if q.get("agent"):
        conds.append(Call.agent_code == q["agent"])
    if q.get("team"):
        conds.append(Call.team_id.in_(select(Team.id).where(Team.name == q["team"])))
    if q.get("status"):
        conds.append(Call.status == q["status"])
    if q.get("flag_type"):
        conds.append(Call.id.in_(select(CallFlag.call_id).where(CallFlag.type == q["flag_type"])))
    if q.get("score_min") is not None or q.get("score_max") is not None:
        lo = q.get("score_min") if q.get("score_min") is not None else -1.0
        hi = q.get("score_max") if q.get("score_max") is not None else 1e9
        conds.append(
            Call.id.in_(
                select(EvaluationRow.call_id).where(
                    EvaluationRow.total >= lo, EvaluationRow.total <= hi, *visible
                )
            )
        )
    if q.get("text"):
        words = str(q["text"]).replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        pattern = "%" + words + "%"  # the escape character escaped first (PostgreSQL refuses
        # a pattern that ends with it)
        conds.append(
            Call.id.in_(
                select(TranscriptSegment.call_id).where(
                    TranscriptSegment.text.like(pattern, escape="\\")
                )
            )
        )
    return conds
