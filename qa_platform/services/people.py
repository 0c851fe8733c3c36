"""What the coaching loop needs to know about people: an agent's hire date (上岗日期) and a
team's lead (班组长). Both audited; both read by ``scoring.services.coaching`` and the A.2
培训质量 figure of the reports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.domain.errors import Invalid, NotFound
from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.models import Team, User


class PeopleError(Invalid):
    """A hire date or team lead that cannot be set (names the value)."""


def parse_hire_date(raw: str | None, today: date) -> date | None:
    """A hire date from text: ``YYYY-MM-DD`` on or before ``today``; empty or ``none`` clears."""
    text = (raw or "").strip()
    if text.lower() in ("", "none"):
        return None
    try:
        value = date.fromisoformat(text)
    except ValueError:
        raise PeopleError.of("users.hire_date", value=repr(text)) from None
    if value > today or value.year < 1950:
        raise PeopleError.of("users.hire_date", value=repr(text))
    return value


def _user(session: Session, who: str) -> User:
    stmt = select(User).where(User.username == who)
    user = session.scalar(stmt)
    if user is None and who.isdigit():
        user = session.get(User, int(who))
    if user is None:
        raise NotFound(f"no user {who!r}")
    return user


def set_hire_date(platform: Platform, who: str, raw: str | None, actor: str) -> dict[str, object]:
    """Set (or clear) the hire date of user ``who`` (username or id)."""
    value = parse_hire_date(raw, platform.clock.now().date())
    with platform.uow() as uow:
        user = _user(uow.session, who)
        user.hire_date = value
        details = {"hire_date": value.isoformat() if value else None}
        append_audit(
            uow.session,
            actor=actor,
            action="user.hire_date",
            object_type="user",
            object_id=user.id,
            details=details,
        )
        uow.commit()
        return {"user": user.username, **details}


def set_team_lead(platform: Platform, team: str, who: str | None, actor: str) -> dict[str, object]:
    """Name the lead (a supervisor) of agent team ``team``; ``None`` clears it."""
    with platform.uow() as uow:
        s = uow.session
        row = s.scalar(select(Team).where(Team.name == team))
        if row is None:
            raise NotFound(f"no team {team!r}")
        lead = _user(s, who) if who else None
        if lead is not None and lead.role not in ("supervisor", "admin"):
            raise PeopleError.of("users.team_lead_role", user=lead.username, role=lead.role)
        row.lead_id = lead.id if lead else None
        details: dict[str, object] = {"team": team, "lead": lead.username if lead else None}
        append_audit(
            s,
            actor=actor,
            action="team.lead",
            object_type="team",
            object_id=row.id,
            details=details,
        )
        uow.commit()
        return details
