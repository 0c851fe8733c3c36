"""Risk reasons of the targeted stream (专项质检 by risk): machine red-line suspects, the lowest
auto scores and complaint cases, read for the calls of a plan's frame.

The random stream never reads these: a plan that names a risk is a targeted plan
(:meth:`scoring.plan.SamplingPlan.validate`), so machine judgements and complaints never bias
the unbiased sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.domain.complaints import CaseState
from scoring.plan import SamplingPlan
from storage.models import Call
from storage.models_autoqa import AutoEvaluationRow
from storage.models_complaints import ComplaintCallRow, ComplaintCaseRow


def targeted_risks(
    session: Session, conds: Sequence[Any], plan: SamplingPlan, reasons: dict[int, set[str]]
) -> dict[str, list[int]]:
    """Add each frame call's risk reasons to ``reasons``; return the rankings (type → call ids,
    highest risk first) that a per-type limit takes from the top of."""
    ranked: dict[str, list[int]] = {}
    if {"auto_red_line", "auto_low_score"} & set(plan.risks):
        ranked.update(_auto_risks(session, conds, plan, reasons))
    if "complaint" in plan.risks:
        for call_id in _complaint_calls(session, conds):
            reasons[call_id].add("complaint")
    return ranked


def _latest_auto(session: Session, conds: Sequence[Any]) -> list[tuple[int, float, bool]]:
    """(call id, total, red line) of each frame call's latest auto evaluation."""
    latest = (
        select(func.max(AutoEvaluationRow.id).label("id"))
        .select_from(AutoEvaluationRow)
        .join(Call, Call.id == AutoEvaluationRow.call_id)
        .where(*conds)
        .group_by(AutoEvaluationRow.call_id)
        .subquery()
    )
    stmt = select(
        AutoEvaluationRow.call_id, AutoEvaluationRow.total, AutoEvaluationRow.red_line
    ).join(latest, latest.c.id == AutoEvaluationRow.id)
    return [(int(c), float(t), bool(r)) for c, t, r in session.execute(stmt)]


def _auto_risks(
    session: Session, conds: Sequence[Any], plan: SamplingPlan, reasons: dict[int, set[str]]
) -> dict[str, list[int]]:
    rows = _latest_auto(session, conds)
    ranked: dict[str, list[int]] = {}
    if "auto_red_line" in plan.risks:
        suspects = sorted((total, call_id) for call_id, total, red in rows if red)
        ranked["auto_red_line"] = [call_id for _, call_id in suspects]
    if "auto_low_score" in plan.risks and plan.auto_score_below is not None:
        below = plan.auto_score_below
        low = sorted((total, call_id) for call_id, total, _ in rows if total < below)
        ranked["auto_low_score"] = [call_id for _, call_id in low]
    for reason, calls in ranked.items():
        for call_id in calls:
            reasons[call_id].add(reason)
    return ranked


def _complaint_calls(session: Session, conds: Sequence[Any]) -> set[int]:
    stmt = (
        select(ComplaintCallRow.call_id)
        .join(ComplaintCaseRow, ComplaintCaseRow.id == ComplaintCallRow.case_id)
        .join(Call, Call.id == ComplaintCallRow.call_id)
        .where(*conds, ComplaintCaseRow.state != CaseState.DISMISSED.value)
    )
    return {int(c) for c in session.scalars(stmt)}
