"""Sampling plans (抽样方案) and runs as the supervisor's plans page shows them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from qa_platform.domain.errors import QaError
from qa_platform.services.context import Platform
from scoring import services as scoring
from scoring.plan import SamplingPlan
from storage.models_scoring import SamplingRunRow


def plan_overview(platform: Platform) -> dict[str, Any]:
    """Plans with today's frame size and the computed sample size; recent runs."""
    plans = []
    for item in scoring.list_plans(platform.uow()):
        stored = scoring.get_plan(platform.uow(), item["name"])
        plan = SamplingPlan.from_mapping(stored["plan"])
        plans.append(
            {**stored, "frame_size": None, "sample_size": None, "error": ""}
            | _sizes(platform, plan)
        )
    with platform.uow() as uow:
        runs = uow.session.scalars(
            select(SamplingRunRow).order_by(SamplingRunRow.id.desc()).limit(20)
        )
        recent = [
            {
                "id": r.id,
                "plan": r.plan_name,
                "stream": r.stream,
                "method": r.method,
                "frame_size": r.frame_size,
                "sample_size": r.sample_size,
                "seed": r.seed,
                "frame_hash": r.frame_hash,
                "created_at": r.created_at,
            }
            for r in runs
        ]
    return {"plans": plans, "runs": recent}


def _sizes(platform: Platform, plan: SamplingPlan) -> dict[str, Any]:
    if plan.stream.value == "targeted":
        return {}
    uow = platform.uow()
    with uow:
        frame = scoring.load_frame(uow, plan)
    try:
        return {"frame_size": frame.size, "sample_size": plan.resolve_size(frame.size)}
    except QaError as exc:
        return {"frame_size": frame.size, "error": str(exc)}


def run_detail(platform: Platform, run_id: int) -> dict[str, Any]:
    """A run with frame size and hash, seed, method and its calls."""
    return scoring.show_run(platform.uow(), run_id)
