"""Sampling runs (抽样): freeze the frame, draw with a recorded seed, store, verify later."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from scoring import plan as plan_mod
from scoring.plan import PlanFilters, SamplingPlan
from scoring.sampling import (
    Frame,
    Sample,
    Stream,
    check_seed,
    frame_from_sorted_unique,
    targeted_sample,
)
from scoring.services.common import audit, centre_timezone, load_user
from scoring.services.plans import plan_row
from scoring.services.targeted_risks import targeted_risks
from storage.models import Call, CallFlag
from storage.repositories.sampling_runs import SqlSamplingRunRepository, StoredRun
from storage.uow import UnitOfWork


def _period_bounds(
    uow: UnitOfWork, filters: PlanFilters
) -> tuple[datetime | None, datetime | None]:
    tz = centre_timezone(uow)
    start = (
        datetime.combine(filters.period_start, time(0), tzinfo=tz) if filters.period_start else None
    )
    end = (
        datetime.combine(filters.period_end + timedelta(days=1), time(0), tzinfo=tz)
        if filters.period_end
        else None
    )
    return start, end


def _frame_conditions(uow: UnitOfWork, filters: PlanFilters) -> list[Any]:
    start, end = _period_bounds(uow, filters)
    conds: list[Any] = [Call.purged_at.is_(None)]
    optional = [
        (start is not None, lambda: Call.started_at >= start),
        (end is not None, lambda: Call.started_at < end),
        (bool(filters.team_ids), lambda: Call.team_id.in_(filters.team_ids)),
        (bool(filters.agent_ids), lambda: Call.agent_id.in_(filters.agent_ids)),
        (bool(filters.business_types), lambda: Call.business_type.in_(filters.business_types)),
        (bool(filters.directions), lambda: Call.direction.in_(filters.directions)),
        (bool(filters.channels), lambda: Call.channel.in_(filters.channels)),
        (filters.min_duration_s is not None, lambda: Call.duration_s >= filters.min_duration_s),
        (filters.max_duration_s is not None, lambda: Call.duration_s <= filters.max_duration_s),
        (filters.analysed_only, lambda: Call.status == "analysed"),
    ]
    conds.extend(make() for wanted, make in optional if wanted)
    return conds


_STRATUM_COLUMNS = {
    "agent": Call.agent_id,
    "team": Call.team_id,
    "business_type": Call.business_type,
    "direction": Call.direction,
}


def load_frame(uow: UnitOfWork, plan: SamplingPlan) -> Frame:
    """Freeze the frame in the open unit of work: eligible ids ascending, strata if needed."""
    key = plan.strata_key()
    columns = [Call.id] if key is None else [Call.id, _STRATUM_COLUMNS[key]]
    stmt = select(*columns).where(*_frame_conditions(uow, plan.filters)).order_by(Call.id)
    rows = _fetch_rows(uow.session, stmt)
    if key is None:
        return frame_from_sorted_unique([r[0] for r in rows])
    return frame_from_sorted_unique([r[0] for r in rows], [r[1] for r in rows])


def _fetch_rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """Run a large read; on PostgreSQL through the DB-API cursor of the session's transaction.

    A million-row frame spends most of its time in per-row result processing; psycopg's own
    cursor returns plain tuples several times faster than the SQLAlchemy result layer.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return [tuple(r) for r in conn.execute(stmt)]
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), compiled.params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _targeted(uow: UnitOfWork, plan: SamplingPlan, seed: int) -> Sample:
    conds = _frame_conditions(uow, plan.filters)
    reasons: dict[int, set[str]] = defaultdict(set)
    if plan.flag_types:
        stmt = (
            select(CallFlag.call_id, CallFlag.type)
            .join(Call, Call.id == CallFlag.call_id)
            .where(*conds, CallFlag.type.in_(plan.flag_types))
        )
        for call_id, flag_type in uow.session.connection().execute(stmt):
            reasons[call_id].add(flag_type)
    ranked = targeted_risks(uow.session, conds, plan, reasons)
    wanted = (*plan.flag_types, *plan.risks)
    return targeted_sample(reasons, wanted, seed, plan.per_type_limit, ranked)


def run_sampling(
    uow: UnitOfWork,
    plan: SamplingPlan | str,
    seed: int | None = None,
    actor: int | str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Run a plan (object, or the name of a stored plan): freeze the frame, draw, store."""
    seed = check_seed(seed) if seed is not None else secrets.randbits(63)
    with uow:
        s = uow.session
        plan_id = None
        if isinstance(plan, str):
            row = plan_row(s, plan)
            plan_id, plan = row.id, SamplingPlan.from_mapping(row.definition)
        plan.validate()
        sample = (
            _targeted(uow, plan, seed)
            if plan.stream is Stream.TARGETED
            else plan_mod.draw(plan, load_frame(uow, plan), seed)
        )
        actor_id = load_user(s, actor).id if actor is not None else None
        at = at or utc_now()
        run = SqlSamplingRunRepository(s).add(plan, plan_id, sample, actor_id, at)
        _audit_run(s, run, actor_id, at)
        uow.commit()
        return run_summary(run)


def _audit_run(s: Session, run: StoredRun, actor_id: int | None, at: datetime) -> None:
    details = {
        "plan": run.plan_name,
        "plan_version": run.plan_version,
        "stream": run.stream,
        "method": run.method,
        "seed": str(run.seed),
        "frame_hash": run.frame_hash,
        "frame_size": run.frame_size,
        "sample_size": run.sample_size,
    }
    audit(s, actor_id, "sample.run", "sampling_run", run.run_id, details, at)


def run_summary(run: StoredRun) -> dict[str, Any]:
    """The JSON contract of ``qa sample run`` / ``qa sample show``."""
    return {
        "run_id": run.run_id,
        "frame_size": run.frame_size,
        "frame_hash": run.frame_hash,
        "seed": run.seed,
        "method": run.method,
        "stream": run.stream,
        "plan": run.plan_name,
        "plan_version": run.plan_version,
        "sample_size": run.sample_size,
        "allocation": run.allocation,
        "call_ids": run.call_ids,
    }


def show_run(uow: UnitOfWork, run_id: int) -> dict[str, Any]:
    """A stored run with its calls in draw order."""
    with uow:
        return run_summary(SqlSamplingRunRepository(uow.session).get(run_id))


def verify_run(uow: UnitOfWork, run_id: int) -> dict[str, Any]:
    """Re-freeze the frame and redraw with the stored seed: is the run reproducible today?"""
    with uow:
        run = SqlSamplingRunRepository(uow.session).get(run_id)
        plan = SamplingPlan.from_mapping(run.parameters)
        if plan.stream is Stream.TARGETED:
            sample = _targeted(uow, plan, run.seed)
        else:
            sample = plan_mod.draw(plan, load_frame(uow, plan), run.seed)
    return {
        "run_id": run_id,
        "frame_unchanged": sample.frame_hash == run.frame_hash,
        "sample_identical": list(sample.call_ids) == run.call_ids,
        "frame_hash_now": sample.frame_hash,
    }
