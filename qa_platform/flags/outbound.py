"""Outbound-call rules (外呼规范, seeds/003 二(二)): pure functions of a call and its context.

- ``outbound_hours`` (呼出时段): 08:30–17:30 on working days, 09:00–17:00 on other days; never
  before 08:00, after 20:00 or on a public holiday (critical). Read from ``started_at`` in the
  centre's time zone against the working calendar (调休 make-up days are working days). Times
  are compared to the minute: 17:30:59 is still 17:30.
- ``outbound_cooling`` (冷却期): the customer refused an earlier call within ``cooling_days``.
- ``outbound_identity`` (身份明示): a vague self-description (客服中心, 调查机构) in the opening
  while the company is not named there.
- ``outbound_disclaimer``: a product recommendation without 此为服务推荐，您可自主选择.
- ``outbound_refusal`` (拒绝呼出, info): the customer refuses; it marks the call for cooling.
- ``outbound_pushing`` (反复推销): the agent goes on recommending after the refusal.

The context (start time, time zone, calendar, earlier refusals) comes from the service layer,
so these rules stay free of the database like the rest of :mod:`qa_platform.flags`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qa_platform.domain.errors import Invalid
from qa_platform.domain.transcript import Role, Severity
from qa_platform.flags.call_view import CallView, PhraseHit
from qa_platform.flags.catalogue import Finding
from qa_platform.flags.rule_set import RuleParams
from scoring.calendar import WorkingCalendar


class OutboundContextError(Invalid):
    """The outbound context is unusable (naive time, unknown time zone)."""


@dataclass(frozen=True)
class OutboundContext:
    """What the outbound rules need beyond the transcript (外呼上下文)."""

    started_at: datetime  # zone-aware
    timezone: str
    calendar: WorkingCalendar
    refusals: tuple[datetime, ...] = ()  # earlier calls the same customer refused

    def __post_init__(self) -> None:
        if self.started_at.tzinfo is None:
            raise OutboundContextError(f"started_at {self.started_at} has no time zone")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise OutboundContextError(f"unknown time zone {self.timezone!r}") from None

    @property
    def local_start(self) -> datetime:
        """The start of the call on the centre's wall clock."""
        return self.started_at.astimezone(ZoneInfo(self.timezone))


OutboundRule = Callable[[CallView, OutboundContext, RuleParams], list[Finding]]


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _whole_call(call: CallView) -> float:
    return call.features.duration_s


def _day_kind(calendar: WorkingCalendar, day: date) -> str:
    if day in calendar.holidays and day not in calendar.makeup_workdays:
        return "holiday"
    return "working_day" if calendar.is_working_day(day) else "rest_day"


def outbound_hours(call: CallView, ctx: OutboundContext, p: RuleParams) -> list[Finding]:
    """呼出时段: the call started outside the allowed window of its day (seeds/003 二(二)1)."""
    local = ctx.local_start
    at, kind = local.hour * 60 + local.minute, _day_kind(ctx.calendar, local.date())
    params = {"date": local.date().isoformat(), "time": local.strftime("%H:%M"), "day": kind}
    end = _whole_call(call)
    if kind == "holiday":
        return [Finding(Role.AGENT, 0.0, end, "outbound_hours.holiday", params, Severity.CRITICAL)]
    if at < _minutes(p["never_before"]) or at > _minutes(p["never_after"]):
        limits = {"never_before": p["never_before"], "never_after": p["never_after"]}
        key = "outbound_hours.forbidden"
        return [Finding(Role.AGENT, 0.0, end, key, {**params, **limits}, Severity.CRITICAL)]
    prefix = "working_day" if kind == "working_day" else "rest_day"
    start, until = p[f"{prefix}_from"], p[f"{prefix}_until"]
    if _minutes(start) <= at <= _minutes(until):
        return []
    window = {"from": start, "until": until}
    return [Finding(Role.AGENT, 0.0, end, "outbound_hours.outside", {**params, **window})]


def outbound_cooling(call: CallView, ctx: OutboundContext, p: RuleParams) -> list[Finding]:
    """冷却期: called again within ``cooling_days`` of a refusal (seeds/003 二(二)1)."""
    limit = timedelta(days=p["cooling_days"])
    earlier = [r for r in ctx.refusals if timedelta(0) < ctx.started_at - r <= limit]
    if not earlier:
        return []
    last = max(earlier)
    days = (ctx.started_at - last).total_seconds() / 86400
    refused_on = last.astimezone(ZoneInfo(ctx.timezone)).date().isoformat()
    params = {"refused_on": refused_on, "days": days, "limit": p["cooling_days"]}
    return [Finding(Role.AGENT, 0.0, _whole_call(call), "outbound_cooling.recent", params)]


def outbound_identity(call: CallView, ctx: OutboundContext, p: RuleParams) -> list[Finding]:
    """身份明示: a vague self-description in the opening hides the company (seeds/003 二(二)2)."""
    if not call.agent:
        return []
    until = call.agent[0].segment.start + p["within_s"]
    opening = [v for v in call.agent if v.segment.start <= until]
    if any(True for _ in call.hits(p["company_lexicon"], opening)):
        return []
    return [_phrase(h, "outbound_identity.vague") for h in call.hits(p["lexicon"], opening)]


def outbound_disclaimer(call: CallView, ctx: OutboundContext, p: RuleParams) -> list[Finding]:
    """服务推荐声明: a recommendation without 此为服务推荐，您可自主选择 (seeds/003 二(二)3)."""
    pitches = list(call.hits(p["trigger_lexicon"], call.agent))
    if not pitches or any(True for _ in call.hits(p["lexicon"], call.agent)):
        return []
    return [_phrase(pitches[0], "outbound_disclaimer.missing")]


def outbound_refusal(call: CallView, ctx: OutboundContext, p: RuleParams) -> list[Finding]:
    """拒绝呼出: the customer refuses; later calls to them within the cooling period are flagged."""
    hits = list(call.hits(p["lexicon"], call.by_role(Role.CUSTOMER)))
    return [_phrase(hits[0], "outbound_refusal.refused")] if hits else []


def outbound_pushing(call: CallView, ctx: OutboundContext, p: RuleParams) -> list[Finding]:
    """反复推销: the agent recommends again after the customer refused (seeds/003 二(二)4)."""
    refusals = list(call.hits(p["refusal_lexicon"], call.by_role(Role.CUSTOMER)))
    if not refusals:
        return []
    refused_at = refusals[0].end
    first_per_turn: dict[int, PhraseHit] = {}
    for h in call.hits(p["push_lexicon"], call.agent):
        if h.start >= refused_at:
            first_per_turn.setdefault(id(h.view), h)  # one finding per agent turn
    return [
        _phrase(h, "outbound_pushing.after_refusal", refused_at=refused_at)
        for h in first_per_turn.values()
    ]


def _phrase(hit: PhraseHit, key: str, **extra: float) -> Finding:
    params = {**hit.evidence_params, **extra}
    return Finding(hit.role, hit.start, hit.end, key, params, hit.match.term.severity)


#: The outbound rules in evaluation order; the keys are flag types (a contract, docs/flags.md).
OUTBOUND_RULES: dict[str, OutboundRule] = {
    "outbound_hours": outbound_hours,
    "outbound_cooling": outbound_cooling,
    "outbound_identity": outbound_identity,
    "outbound_disclaimer": outbound_disclaimer,
    "outbound_refusal": outbound_refusal,
    "outbound_pushing": outbound_pushing,
}
