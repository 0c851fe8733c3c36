"""Outbound rules (外呼规范, seeds/003 二(二)): calling hours against the centre's time zone and the
2026 working calendar, cooling after a refusal, identity disclosure, the recommendation
disclaimer and pushing after a refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Severity, Transcript, Word
from qa_platform.flags import (
    OutboundContext,
    RuleSetError,
    default_rule_set,
    evaluate,
    render,
    rule_set_from_dict,
)
from qa_platform.flags.outbound import OutboundContextError
from qa_platform.services.outbound import default_calendar_path
from scoring.calendar import WorkingCalendar

RULES = default_rule_set()
CALENDAR = WorkingCalendar.load(default_calendar_path())
SHANGHAI = "Asia/Shanghai"
OUTBOUND = {
    "outbound_hours",
    "outbound_cooling",
    "outbound_identity",
    "outbound_disclaimer",
    "outbound_refusal",
    "outbound_pushing",
}
OPENING = "您好，这里是安心保险公司服务专线，我是坐席小王，工号三八二一，请问现在方便接听吗"


def seg(role: Role, start: float, end: float, text: str) -> Segment:
    step = (end - start) / max(len(text), 1)
    words = [Word(ch, start + i * step, start + (i + 1) * step) for i, ch in enumerate(text)]
    return Segment("S" + role[0], role, start, end, text, words)


def local(text: str, zone: str = SHANGHAI) -> datetime:
    """A wall-clock time of the centre, as the aware UTC instant the database stores."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def outbound_flags(
    started_at: datetime,
    segments: list[Segment] | None = None,
    *,
    refusals: tuple[datetime, ...] = (),
    zone: str = SHANGHAI,
    direction: str = "out",
) -> list:
    context = OutboundContext(started_at, zone, CALENDAR, refusals)
    transcript = Transcript(segments if segments is not None else [seg(Role.AGENT, 0, 5, OPENING)])
    flags = evaluate(
        transcript, AudioFeatures(duration_s=60.0), RULES, direction=direction, outbound=context
    )
    return [f for f in flags if f.type in OUTBOUND]


def hours(started_at: datetime, zone: str = SHANGHAI) -> tuple[str, str] | None:
    """(severity, evidence key) of the calling-hours flag, or None."""
    found = [f for f in outbound_flags(started_at, zone=zone) if f.type == "outbound_hours"]
    return (str(found[0].severity), found[0].evidence_key) if found else None


OUTSIDE = ("warning", "outbound_hours.outside")
FORBIDDEN = ("critical", "outbound_hours.forbidden")
HOLIDAY = ("critical", "outbound_hours.holiday")


# ----------------------------------------------------------------------------- calling hours
@pytest.mark.parametrize(
    ("wall_clock", "expected"),
    [
        ("2026-03-02T08:29:59", OUTSIDE),  # Monday, a working day
        ("2026-03-02T08:30:00", None),
        ("2026-03-02T17:30:59", None),  # compared to the minute
        ("2026-03-02T17:31:00", OUTSIDE),
        ("2026-03-02T07:59:00", FORBIDDEN),
        ("2026-03-02T08:00:00", OUTSIDE),
        ("2026-03-02T20:00:00", OUTSIDE),  # 20:00 itself is not "after 20:00"
        ("2026-03-02T20:01:00", FORBIDDEN),
    ],
)
def test_working_day_window_is_0830_to_1730_and_never_before_8_or_after_20(
    wall_clock: str, expected: tuple[str, str] | None
) -> None:
    assert hours(local(wall_clock)) == expected


@pytest.mark.parametrize(
    ("wall_clock", "expected"),
    [
        ("2026-03-07T08:59:00", OUTSIDE),  # Saturday
        ("2026-03-07T09:00:00", None),
        ("2026-03-08T17:00:00", None),  # Sunday
        ("2026-03-08T17:01:00", OUTSIDE),
        ("2026-03-07T08:30:00", OUTSIDE),  # a working day's start is too early at a weekend
    ],
)
def test_weekend_window_is_0900_to_1700(wall_clock: str, expected: tuple[str, str] | None) -> None:
    assert hours(local(wall_clock)) == expected


def test_a_makeup_working_day_uses_the_working_day_window() -> None:
    assert CALENDAR.is_working_day(local("2026-02-28T12:00:00").date())  # 调休 Saturday
    assert hours(local("2026-02-28T08:30:00")) is None
    assert hours(local("2026-02-28T17:15:00")) is None  # after 17:00, fine on a working day
    assert hours(local("2026-03-07T17:15:00")) == OUTSIDE  # the same time on a plain Saturday


@pytest.mark.parametrize(
    "wall_clock", ["2026-10-01T10:00:00", "2026-02-17T14:00:00", "2026-01-03T11:00:00"]
)
def test_a_public_holiday_is_off_limits_all_day(wall_clock: str) -> None:
    assert hours(local(wall_clock)) == HOLIDAY


def test_the_local_day_counts_not_the_utc_day() -> None:
    # 16:30 UTC on Wednesday 30 September would be a working afternoon; in Shanghai it is
    # 00:30 on 1 October, the National Day holiday.
    started = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)
    assert hours(started) == HOLIDAY
    (flag,) = [f for f in outbound_flags(started) if f.type == "outbound_hours"]
    assert flag.evidence_params["date"] == "2026-10-01" and flag.evidence_params["time"] == "00:30"
    assert "法定节假日" in flag.evidence and "2026-10-01" in flag.evidence
    # Monday 01:00 UTC is 09:00 in Shanghai: allowed.
    assert hours(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)) is None


def test_the_centre_time_zone_is_a_setting() -> None:
    started = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai, 01:00 London
    assert hours(started, zone="Europe/London") == FORBIDDEN
    assert hours(started, zone=SHANGHAI) is None


def test_the_evidence_reads_in_both_languages() -> None:
    (flag,) = [f for f in outbound_flags(local("2026-03-07T08:45:00")) if f.type.endswith("hours")]
    assert (
        flag.evidence
        == "外呼于 2026-03-07 08:45（非工作日，中心当地时间），不在允许时段 09:00–17:00 内"
    )
    english = render(flag.evidence_key, flag.evidence_params, "en")
    assert "non-working day" in english and "09:00–17:00" in english


def test_a_naive_start_or_unknown_zone_is_refused() -> None:
    with pytest.raises(OutboundContextError, match="no time zone"):
        OutboundContext(datetime(2026, 3, 2, 9, 0), SHANGHAI, CALENDAR)
    with pytest.raises(OutboundContextError, match="unknown time zone 'Mars/Base'"):
        OutboundContext(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "Mars/Base", CALENDAR)


def test_inbound_calls_get_no_outbound_flags() -> None:
    assert outbound_flags(local("2026-10-01T03:00:00"), direction="in") == []


# ----------------------------------------------------------------------------- cooling
@pytest.mark.parametrize(("days_before", "fires"), [(1, True), (89, True), (90, True), (91, False)])
def test_calling_again_within_90_days_of_a_refusal_is_flagged(
    days_before: int, fires: bool
) -> None:
    started = local("2026-06-10T10:00:00")
    refused = started - timedelta(days=days_before)
    found = [f for f in outbound_flags(started, refusals=(refused,)) if f.type.endswith("cooling")]
    assert bool(found) is fires
    if fires:
        assert found[0].severity == Severity.CRITICAL
        assert f"{days_before} 天后再次外呼" in found[0].evidence


def test_a_refusal_after_the_call_does_not_count() -> None:
    started = local("2026-06-10T10:00:00")
    later = started + timedelta(days=1)
    assert not [f for f in outbound_flags(started, refusals=(later,)) if "cooling" in f.type]


# ----------------------------------------------------------------------------- what is said
WORKING_HOURS = local("2026-03-03T10:00:00")


def said(*lines: tuple[Role, str]) -> list[str]:
    segments = [seg(role, i * 6.0, i * 6.0 + 5.0, text) for i, (role, text) in enumerate(lines)]
    return sorted(f.type for f in outbound_flags(WORKING_HOURS, segments))


def test_a_vague_self_description_that_hides_the_company_is_flagged() -> None:
    assert said((Role.AGENT, "您好，这里是客服中心，我是坐席小王")) == ["outbound_identity"]
    assert said((Role.AGENT, "您好，我们是调查机构，想做个回访")) == ["outbound_identity"]
    assert said((Role.AGENT, "您好，这里是安心保险公司客服中心，我是坐席小王")) == []


def test_a_recommendation_needs_the_disclaimer() -> None:
    pitch = "给您推荐一款新产品，保障更全面"
    assert said((Role.AGENT, OPENING), (Role.AGENT, pitch)) == ["outbound_disclaimer"]
    disclaimed = (Role.AGENT, "此为服务推荐，您可自主选择")
    assert said((Role.AGENT, OPENING), (Role.AGENT, pitch), disclaimed) == []
    assert said((Role.AGENT, OPENING), (Role.AGENT, "您的保单下月到期，提醒您按时缴费")) == []


def test_a_refusal_is_marked_and_pushing_after_it_is_flagged() -> None:
    flags = said(
        (Role.AGENT, OPENING),
        (Role.CUSTOMER, "不需要，别再打了"),
        (Role.AGENT, "好的，理解您的选择，如有需要可随时拨打我们的服务热线"),
    )
    assert flags == ["outbound_refusal"]
    pushed = said(
        (Role.AGENT, OPENING),
        (Role.CUSTOMER, "不需要，别再打了"),
        (Role.AGENT, "先别挂，给您推荐一款新产品，此为服务推荐，您可自主选择"),
    )
    assert pushed == ["outbound_pushing", "outbound_refusal"]


# ----------------------------------------------------------------------------- the rule set
def test_a_rule_set_stored_before_the_outbound_rules_still_loads_with_their_defaults() -> None:
    data = RULES.to_dict()
    for name in OUTBOUND:
        del data["rules"][name]
    older = rule_set_from_dict(data)
    params = older.resolve("out")["outbound_hours"]
    assert params.enabled and params["working_day_from"] == "08:30"
    assert older.resolve("out")["outbound_cooling"]["cooling_days"] == 90


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("working_day_from", "8:30", "must be a time of day HH:MM"),
        ("never_after", "24:00", "must be a time of day HH:MM"),
        ("working_day_from", 830, "must be a time of day HH:MM"),
        ("never_before", "09:00", "is above outbound_hours.working_day_from"),
    ],
)
def test_bad_calling_hours_are_refused_naming_the_key(
    key: str, value: object, problem: str
) -> None:
    data = RULES.to_dict()
    data["rules"]["outbound_hours"][key] = value
    with pytest.raises(RuleSetError, match=f"outbound_hours.{key}.*{problem}"):
        rule_set_from_dict(data)
