"""Assignment (分配): sampled calls become evaluations of inspectors; cover for the absent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from scoring.assignment import CallToAssign, Inspector, assign_calls
from scoring.services.business_lines import business_lines
from scoring.services.common import OPEN_STATES, actor_for, audit, require_supervisor
from scoring.services.evaluation_unit import SqlEvaluationUnit, Steps, apply_steps
from scoring.services.scorecards import scorecard_row
from scoring.workflow import State
from storage.models import Call, User
from storage.models_scoring import EvaluationRow, SampledItemRow
from storage.uow import UnitOfWork


def _open_load(s: Session) -> dict[int, int]:
    rows = s.execute(
        select(EvaluationRow.inspector_id, func.count())
        .where(EvaluationRow.state.in_([str(x) for x in OPEN_STATES]))
        .group_by(EvaluationRow.inspector_id)
    ).all()
    return {i: n for i, n in rows}


def _inspectors(s: Session, ids: Iterable[int] | None, away: Iterable[int] = ()) -> list[Inspector]:
    stmt = select(User).where(User.role == "inspector", User.active)
    if ids is not None:
        stmt = stmt.where(User.id.in_(list(ids)))
    away_set = set(away)
    return [Inspector(u.id, u.team_id, u.id not in away_set) for u in s.scalars(stmt)]


def assign_run(
    uow: UnitOfWork,
    run_id: int,
    actor: int | str,
    inspector_ids: Iterable[int] | None = None,
    exclude_own_team: bool = True,
    scorecard: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Create an evaluation (state assigned) for every sampled call of a run not yet assigned."""
    at = at or utc_now()
    with uow:
        s = uow.session
        by = actor_for(s, actor)
        require_supervisor(by, "assign calls")
        lines = business_lines(s)  # a call's business line decides its scorecard (业务条线)
        fixed = scorecard_row(s, scorecard) if scorecard is not None else None
        cards: dict[str | None, Any] = {}
        rows = s.execute(
            select(SampledItemRow, Call.agent_id, Call.team_id, Call.business_type)
            .join(Call, Call.id == SampledItemRow.call_id)
            .outerjoin(EvaluationRow, EvaluationRow.sampled_item_id == SampledItemRow.id)
            .where(SampledItemRow.run_id == run_id, EvaluationRow.id.is_(None))
        ).all()
        skipped = [item.call_id for item, agent, _, _ in rows if agent is None]
        todo = {item.call_id: (item, agent, bt) for item, agent, _, bt in rows if agent is not None}
        calls = [
            CallToAssign(item.call_id, agent, team)
            for item, agent, team, _ in rows
            if agent is not None
        ]
        mapping = assign_calls(
            calls, _inspectors(s, inspector_ids), exclude_own_team, _open_load(s)
        )
        for call_id, inspector_id in mapping.items():
            item, agent, business_type = todo[call_id]
            name = lines.get(business_type or "")
            if name not in cards:
                cards[name] = fixed or scorecard_row(s, name)
            card_row = cards[name]
            ev = EvaluationRow(
                call_id=call_id,
                sampled_item_id=item.id,
                stream=item.stream,
                agent_id=agent,
                inspector_id=inspector_id,
                scorecard_id=card_row.id,
                state=str(State.ASSIGNED),
                row_version=1,
                current_version=0,
                draft={},
                return_reason="",
                created_at=at,
                updated_at=at,
            )
            s.add(ev)
            s.flush()
            audit(
                s,
                by.user_id,
                "evaluation.assign",
                "evaluation",
                ev.id,
                {
                    "call_id": call_id,
                    "inspector_id": inspector_id,
                    "run_id": run_id,
                    "scorecard": f"{card_row.name}:v{card_row.version}",
                },
                at,
            )
        uow.commit()
        return {
            "run_id": run_id,
            "assigned": {str(k): v for k, v in sorted(mapping.items())},
            "skipped_no_agent": skipped,
        }


def reassign_away(
    uow: UnitOfWork,
    inspector_id: int,
    actor: int | str,
    exclude_own_team: bool = True,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An inspector is away: move their open evaluations to the others, least loaded first."""
    at = at or utc_now()
    with uow:
        s = uow.session
        by = actor_for(s, actor)
        require_supervisor(by, "reassign calls")
        rows = s.execute(
            select(EvaluationRow, Call.team_id)
            .join(Call, Call.id == EvaluationRow.call_id)
            .where(
                EvaluationRow.inspector_id == inspector_id,
                EvaluationRow.state.in_([str(x) for x in OPEN_STATES]),
            )
        ).all()
        calls = [CallToAssign(ev.call_id, ev.agent_id, team) for ev, team in rows]
        load = _open_load(s)
        load.pop(inspector_id, None)
        mapping = assign_calls(
            calls, _inspectors(s, None, away=[inspector_id]), exclude_own_team, load
        )
        unit = SqlEvaluationUnit(uow).bind()
        moved = {}
        for ev_row, _team in rows:
            target = mapping[ev_row.call_id]
            apply_steps(unit, ev_row.id, by, _reassign_to(target), at)
            moved[str(ev_row.id)] = target
        uow.commit()
        return {"inspector_id": inspector_id, "moved": moved}


def _reassign_to(inspector_id: int) -> Steps:
    return lambda ev: [lambda e, by, t: e.reassign(inspector_id, by, t)]
