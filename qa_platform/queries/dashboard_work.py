"""Work waiting on the supervisor (待办) and this month's sampling progress (抽样进度).

Overdue rules (documented in docs/web.md): a review is overdue once
``REVIEW_DUE_WORKING_DAYS`` working days have passed since the evaluation was submitted, an
appeal once ``APPEAL_DUE_WORKING_DAYS`` working days have passed since it was filed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.queries.dashboard_counts import Teams
from qa_platform.settings import Settings
from scoring.services.evaluation_unit import workflow_policy
from storage.models import Call
from storage.models_scoring import (
    AppealRow,
    EvaluationRow,
    SampledItemRow,
    SamplingPlanRow,
    SamplingRunRow,
)

REVIEW_DUE_WORKING_DAYS = 2
APPEAL_DUE_WORKING_DAYS = 3
OPEN_STATES = ("assigned", "draft", "returned")


@dataclass(frozen=True)
class WorkWaiting:
    """Reviews and appeals waiting on the supervisor, and how many are overdue."""

    reviews: int
    reviews_overdue: int
    appeals: int
    appeals_overdue: int
    appeals_unassigned: int
    review_due_days: int = REVIEW_DUE_WORKING_DAYS
    appeal_due_days: int = APPEAL_DUE_WORKING_DAYS


@dataclass(frozen=True)
class PlanProgress:
    """One sampling plan this month: calls drawn, evaluations done (submitted or later)."""

    plan: str
    runs: int
    drawn: int
    done: int

    @property
    def share(self) -> float | None:
        return self.done / self.drawn if self.drawn else None


@dataclass(frozen=True)
class Progress:
    """This month's evaluations in scope (all streams) and progress per plan."""

    assigned: int
    done: int
    plans: list[PlanProgress]

    @property
    def share(self) -> float | None:
        return self.done / self.assigned if self.assigned else None


def _scoped(stmt: Any, teams: Teams) -> Any:
    return stmt if teams is None else stmt.where(Call.team_id.in_(sorted(teams) or [-1]))


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def waiting(s: Session, settings: Settings, teams: Teams, now: datetime) -> WorkWaiting:
    """Submitted evaluations and undecided appeals in scope, with the overdue ones."""
    policy = workflow_policy(settings)
    tz = ZoneInfo(policy.timezone)

    def overdue(at: datetime, days: int) -> bool:
        return now >= policy.calendar.deadline_after(_aware(at).astimezone(tz), days)

    submitted = s.scalars(
        _scoped(
            select(EvaluationRow.updated_at)
            .join(Call, Call.id == EvaluationRow.call_id)
            .where(EvaluationRow.state == "submitted"),
            teams,
        )
    ).all()
    appeals = s.execute(
        _scoped(
            select(AppealRow.filed_at, AppealRow.reviewer_id)
            .join(EvaluationRow, EvaluationRow.id == AppealRow.evaluation_id)
            .join(Call, Call.id == EvaluationRow.call_id)
            .where(AppealRow.decision.is_(None), EvaluationRow.state == "appealed"),
            teams,
        )
    ).all()
    return WorkWaiting(
        reviews=len(submitted),
        reviews_overdue=sum(overdue(at, REVIEW_DUE_WORKING_DAYS) for at in submitted),
        appeals=len(appeals),
        appeals_overdue=sum(overdue(at, APPEAL_DUE_WORKING_DAYS) for at, _ in appeals),
        appeals_unassigned=sum(reviewer is None for _, reviewer in appeals),
    )


def _month_bounds(tz: ZoneInfo, first: date, last: date) -> tuple[datetime, datetime]:
    lo = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
    hi = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    return lo, hi


def sample_progress(s: Session, tz: ZoneInfo, first: date, last: date, teams: Teams) -> Progress:
    """Evaluations created this month in scope (done: submitted or later), and per sampling
    plan the calls its runs of this month drew in scope and how many of them are done."""
    lo, hi = _month_bounds(tz, first, last)
    states = s.scalars(
        _scoped(
            select(EvaluationRow.state)
            .join(Call, Call.id == EvaluationRow.call_id)
            .where(EvaluationRow.created_at >= lo, EvaluationRow.created_at < hi),
            teams,
        )
    ).all()
    return Progress(
        assigned=len(states),
        done=sum(state not in OPEN_STATES for state in states),
        plans=_plan_progress(s, lo, hi, teams),
    )


def _plan_progress(s: Session, lo: datetime, hi: datetime, teams: Teams) -> list[PlanProgress]:
    runs: dict[str, int] = defaultdict(int)
    for name, n in s.execute(
        select(SamplingRunRow.plan_name, func.count())
        .where(SamplingRunRow.created_at >= lo, SamplingRunRow.created_at < hi)
        .group_by(SamplingRunRow.plan_name)
    ):
        runs[name or ""] += int(n)
    drawn: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    items = _scoped(
        select(SamplingRunRow.plan_name, EvaluationRow.state)
        .select_from(SampledItemRow)
        .join(SamplingRunRow, SamplingRunRow.id == SampledItemRow.run_id)
        .join(Call, Call.id == SampledItemRow.call_id)
        .outerjoin(EvaluationRow, EvaluationRow.sampled_item_id == SampledItemRow.id)
        .where(SamplingRunRow.created_at >= lo, SamplingRunRow.created_at < hi),
        teams,
    )
    for name, state in s.execute(items):
        row = drawn[name or ""]
        row[0] += 1
        row[1] += state is not None and state not in OPEN_STATES
    names = set(s.scalars(select(SamplingPlanRow.name))) | set(runs)
    return [
        PlanProgress(name, runs.get(name, 0), drawn[name][0], drawn[name][1])
        for name in sorted(names)
    ]
