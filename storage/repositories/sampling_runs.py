"""Sampling runs (抽样记录) in the database: a run row and its sampled calls in draw order.

A run is written once and never changed: ``add`` stores the frozen frame hash, seed, method and
plan with the drawn calls; ``get`` reads it back for ``qa sample show`` and verification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from scoring.plan import SamplingPlan
from scoring.sampling import Sample
from storage.models_scoring import SampledItemRow, SamplingRunRow
from storage.repositories.errors import NotFoundError


@dataclass(frozen=True)
class StoredRun:
    """A stored sampling run with its calls in draw order."""

    run_id: int
    plan_name: str
    plan_version: int | None
    stream: str
    method: str
    seed: int
    frame_hash: str
    frame_size: int
    sample_size: int
    parameters: dict[str, Any]
    allocation: dict[str, Any]
    call_ids: list[int]


class SqlSamplingRunRepository:
    """Sampling runs in the session of one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        plan: SamplingPlan,
        plan_id: int | None,
        sample: Sample,
        actor_id: int | None,
        at: datetime,
    ) -> StoredRun:
        """Store the run of ``plan`` (``plan_id`` when it is a stored plan) and its calls."""
        row = SamplingRunRow(
            plan_id=plan_id,
            plan_name=plan.name,
            plan_version=plan.version if plan_id else None,
            stream=str(sample.stream),
            method=str(sample.method),
            seed=sample.seed,
            frame_hash=sample.frame_hash,
            frame_size=sample.frame_size,
            sample_size=sample.size,
            parameters=plan.to_mapping(),
            allocation=dict(sample.allocation),
            created_by=actor_id,
            created_at=at,
        )
        self.session.add(row)
        self.session.flush()
        if sample.call_ids:
            self.session.execute(insert(SampledItemRow), _items(row.id, sample))
        return _stored(row, list(sample.call_ids))

    def get(self, run_id: int) -> StoredRun:
        """The run with its calls in draw order; ``NotFoundError`` if there is none."""
        row = self.session.get(SamplingRunRow, run_id)
        if row is None:
            raise NotFoundError(f"no sampling run {run_id}")
        ids = self.session.scalars(
            select(SampledItemRow.call_id)
            .where(SampledItemRow.run_id == run_id)
            .order_by(SampledItemRow.draw_order)
        ).all()
        return _stored(row, list(ids))


def _items(run_id: int, sample: Sample) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id,
            "call_id": c,
            "stream": str(sample.stream),
            "stratum": sample.strata.get(c, ""),
            "draw_order": i,
        }
        for i, c in enumerate(sample.call_ids)
    ]


def _stored(row: SamplingRunRow, call_ids: list[int]) -> StoredRun:
    return StoredRun(
        run_id=row.id,
        plan_name=row.plan_name,
        plan_version=row.plan_version,
        stream=row.stream,
        method=row.method,
        seed=row.seed,
        frame_hash=row.frame_hash,
        frame_size=row.frame_size,
        sample_size=row.sample_size,
        parameters=row.parameters,
        allocation=row.allocation,
        call_ids=call_ids,
    )
