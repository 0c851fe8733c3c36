"""A.2 培训质量 (training quality, Appendix A of the standard): 上岗30天新员工合格录音量 /
30天质检总量 — of the random-stream results published for calls that agents made within their
first 30 days after their hire date (上岗日期), the share that passed.

Only agents with a hire date count (``qa users hire-date``); the random stream only, like every
quality KPI, so that a targeted inspection of a struggling newcomer cannot bias it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scoring.reports.statistics import ratio
from storage.models import Call, User
from storage.models_scoring import EvaluationRow, EvaluationVersionRow

NEW_AGENT_DAYS = 30
PUBLISHED_STATES = ("published", "appealed", "final")


def training_quality(session: Session, lo: datetime, hi: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """The A.2 figures of the calls started in [lo, hi): new agents, their inspected calls,
    the qualified ones and the rate (None without any)."""
    stmt = (
        select(EvaluationRow.agent_id, Call.started_at, User.hire_date, EvaluationVersionRow.passed)
        .select_from(EvaluationRow)
        .join(Call, Call.id == EvaluationRow.call_id)
        .join(User, User.id == EvaluationRow.agent_id)
        .join(
            EvaluationVersionRow,
            (EvaluationVersionRow.evaluation_id == EvaluationRow.id)
            & (EvaluationVersionRow.number == EvaluationRow.current_version),
        )
        .where(
            User.hire_date.is_not(None),
            Call.started_at >= lo,
            Call.started_at < hi,
            EvaluationRow.stream == "random",
            EvaluationRow.state.in_(PUBLISHED_STATES),
        )
    )
    agents, total, passed = set(), 0, 0
    for agent_id, started_at, hired, ok in session.execute(stmt):
        if hired is None:  # excluded by the query; keeps the type narrow
            continue
        first_day = datetime.combine(hired, time(0), tzinfo=tz)
        if not first_day <= started_at < first_day + timedelta(days=NEW_AGENT_DAYS):
            continue
        agents.add(agent_id)
        total += 1
        passed += bool(ok)
    return {
        "training_new_agents": len(agents),
        "training_evaluations": total,
        "training_passed": passed,
        "training_quality_rate": ratio(passed, total),
    }
