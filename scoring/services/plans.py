"""Sampling plans (抽样方案): stored by name, every change a new version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from scoring.plan import SamplingPlan
from scoring.services.common import NotFoundError, audit, load_user
from storage.models_scoring import SamplingPlanRow
from storage.uow import UnitOfWork


def save_plan(
    uow: UnitOfWork, plan: SamplingPlan | Mapping[str, Any], actor: int | str | None = None
) -> dict[str, Any]:
    """Store a plan as the next version of its name (versions are never overwritten)."""
    if not isinstance(plan, SamplingPlan):
        plan = SamplingPlan.from_mapping({**plan, "version": 1})
    with uow:
        s = uow.session
        actor_id = load_user(s, actor).id if actor is not None else None
        latest = s.scalar(
            select(func.max(SamplingPlanRow.version)).where(SamplingPlanRow.name == plan.name)
        )
        plan = replace(plan, version=(latest or 0) + 1).validate()
        row = SamplingPlanRow(
            name=plan.name,
            version=plan.version,
            stream=str(plan.stream),
            definition=plan.to_mapping(),
            created_by=actor_id,
            created_at=utc_now(),
        )
        s.add(row)
        s.flush()
        audit(
            s,
            actor_id,
            "plan.save",
            "sampling_plan",
            row.id,
            {"name": plan.name, "version": plan.version},
        )
        uow.commit()
        return {
            "plan_id": row.id,
            "name": plan.name,
            "version": plan.version,
            "plan": plan.to_mapping(),
        }


def plan_row(session: Session, name: str, version: int | None = None) -> SamplingPlanRow:
    """The stored plan ``name`` (latest version unless given); ``NotFoundError`` otherwise."""
    stmt = select(SamplingPlanRow).where(SamplingPlanRow.name == name)
    stmt = stmt.where(SamplingPlanRow.version == version) if version else stmt
    row = session.scalars(stmt.order_by(SamplingPlanRow.version.desc()).limit(1)).first()
    if row is None:
        raise NotFoundError(
            f"no sampling plan {name!r}" + (f" version {version}" if version else "")
        )
    return row


def get_plan(uow: UnitOfWork, name: str, version: int | None = None) -> dict[str, Any]:
    """A stored plan (latest version unless given)."""
    with uow:
        row = plan_row(uow.session, name, version)
        return {"plan_id": row.id, "name": row.name, "version": row.version, "plan": row.definition}


def list_plans(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every plan name with its latest version."""
    with uow:
        rows = uow.session.execute(
            select(SamplingPlanRow.name, func.max(SamplingPlanRow.version))
            .group_by(SamplingPlanRow.name)
            .order_by(SamplingPlanRow.name)
        ).all()
        return [{"name": n, "version": v} for n, v in rows]
