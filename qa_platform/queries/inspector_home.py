"""The inspector's home (质检员首页): my queue, my progress, my agreement in calibration (校准).

Progress counts the evaluations the inspector submitted (the workflow's ``evaluation.submit``
audit rows) today and this month, in the centre's local days. Agreement is computed from the
calibration scores of every session the inspector takes part in, against the supervisor's
reference or, without one, the consensus of the participants (``scoring.calibration``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_platform.queries.work_queues import inspector_queue
from qa_platform.services.auth import SessionUser
from qa_platform.services.context import Platform
from scoring.calibration import CalibrationError, analyse_session
from scoring.services.calibration import session_scores
from storage.models import AuditEvent
from storage.models_scoring import CalibrationSessionRow, EvaluationRow

RECENT_SESSIONS = 10


@dataclass(frozen=True)
class MySession:
    """My agreement in one calibration session (None: not scored yet)."""

    id: int
    name: str
    status: str
    scored: int
    agreement_rate: float | None
    kappa: float | None
    mean_abs_deviation: float | None


@dataclass(frozen=True)
class InspectorHome:
    """What the inspector's home shows."""

    queue: dict[str, list[dict[str, Any]]]
    submitted_today: int
    submitted_month: int
    open_now: int
    returned_now: int
    sessions: list[MySession]

    @property
    def agreement_rate(self) -> float | None:
        """Agreement over every scored session, weighted by the scores given."""
        pairs = [
            (x.agreement_rate, x.scored) for x in self.sessions if x.agreement_rate is not None
        ]
        total = sum(n for _, n in pairs)
        return sum(rate * n for rate, n in pairs) / total if total else None


def inspector_home(platform: Platform, user: SessionUser) -> InspectorHome:
    tz = ZoneInfo(platform.settings.centre_timezone)
    now = platform.clock.now()
    local = now.astimezone(tz)
    today = datetime.combine(local.date(), datetime.min.time(), tz).astimezone(UTC)
    month = datetime.combine(local.date().replace(day=1), datetime.min.time(), tz)
    with platform.uow() as uow:
        s = uow.session
        open_states = dict(
            s.execute(
                select(EvaluationRow.state, func.count())
                .where(EvaluationRow.inspector_id == user.id)
                .group_by(EvaluationRow.state)
            ).all()
        )
        home = InspectorHome(
            queue=inspector_queue(platform, user),
            submitted_today=_submitted(s, user, today, now),
            submitted_month=_submitted(s, user, month.astimezone(UTC), now),
            open_now=sum(int(open_states.get(k, 0)) for k in ("assigned", "draft", "returned")),
            returned_now=int(open_states.get("returned", 0)),
            sessions=_sessions(s, user.id),
        )
    return home


def _submitted(s: Session, user: SessionUser, lo: datetime, now: datetime) -> int:
    return int(
        s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == "evaluation.submit",
                AuditEvent.actor == user.actor,
                AuditEvent.at >= lo,
                AuditEvent.at < now + timedelta(seconds=1),
            )
        )
        or 0
    )


def _sessions(s: Session, inspector_id: int) -> list[MySession]:
    rows = s.scalars(select(CalibrationSessionRow).order_by(CalibrationSessionRow.id.desc()))
    mine = [r for r in rows if inspector_id in (r.inspector_ids or [])][:RECENT_SESSIONS]
    return [_mine(s, r, inspector_id) for r in mine]


def _mine(s: Session, row: CalibrationSessionRow, inspector_id: int) -> MySession:
    participants, reference = session_scores(s, row.id)
    try:
        report = analyse_session(participants, reference or None)
    except CalibrationError:  # nobody has scored yet
        return MySession(row.id, row.name, row.status, 0, None, None, None)
    me = next((d for d in report.inspectors if d.inspector_id == inspector_id), None)
    if me is None:
        return MySession(row.id, row.name, row.status, 0, None, None, None)
    return MySession(
        row.id,
        row.name,
        row.status,
        me.scored,
        me.agreement_rate,
        me.kappa_vs_reference,
        me.mean_abs_deviation,
    )
