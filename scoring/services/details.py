"""The scoring section of ``qa call show``: the runs that drew a call and its evaluations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Call
from storage.models_scoring import EvaluationRow, SampledItemRow


def call_scoring_detail(session: Session, call: Call) -> dict[str, Any]:
    """Extra keys for ``qa call show``: the runs that drew the call and its evaluations."""
    runs = session.execute(
        select(SampledItemRow.run_id, SampledItemRow.stream)
        .where(SampledItemRow.call_id == call.id)
        .order_by(SampledItemRow.run_id)
    ).all()
    evals = session.scalars(
        select(EvaluationRow).where(EvaluationRow.call_id == call.id).order_by(EvaluationRow.id)
    ).all()
    return {
        "sampled_in": [{"run_id": r, "stream": s} for r, s in runs],
        "evaluations": [
            {
                "evaluation_id": e.id,
                "state": e.state,
                "total": e.total,
                "version": e.current_version,
            }
            for e in evals
        ],
    }
