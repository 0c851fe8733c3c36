"""Outbound rules through the flag service on the real database: the call's stored start time,
the centre's time zone and calendar from the settings, and the customer's earlier refusals read
from earlier calls' flags (冷却期)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from qa_platform.domain.transcript import Role, Segment, Transcript
from qa_platform.services import flags as flag_service
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services.context import Platform
from storage.models import CallFlag
from tests.factories import add_call, make_people
from tests.helpers.platforms import make_platform

OPENING = "您好，这里是安心保险公司服务专线，我是坐席小王，工号三八二一，请问现在方便接听吗"
REFUSAL = "不需要，以后别打了"
PHONE = "139****5678"
# Tuesday 3 March 2026, 10:00 in Shanghai.
TUESDAY_10 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)


def outbound_call(
    platform: Platform, agent: int, started: datetime, customer_line: str, phone: str = PHONE
) -> int:
    """An analysed outbound call: the agent's opening and one line of the customer."""
    call_id = add_call(
        platform,
        agent,
        None,
        direction="out",
        started_at=started,
        customer_phone_masked=phone,
        business_type="renewal",
    )
    segments = [
        Segment("S0", Role.AGENT, 0.0, 6.0, OPENING),
        Segment("S1", Role.CUSTOMER, 6.5, 9.0, customer_line),
    ]
    with platform.uow() as uow:
        pipeline_service.save_transcript(
            uow.session,
            call_id,
            transcript=Transcript(segments, "zh", "demo"),
            model="demo",
            model_version="demo-1",
            version="demo",
        )
        uow.commit()
    return call_id


def stored(platform: Platform, call_id: int) -> dict[str, CallFlag]:
    with platform.uow() as uow:
        rows = uow.session.scalars(select(CallFlag).where(CallFlag.call_id == call_id)).all()
        uow.session.expunge_all()
    return {r.type: r for r in rows if r.type.startswith("outbound_")}


def test_a_customer_called_again_within_90_days_of_refusing_is_flagged(platform: Platform) -> None:
    agent = make_people(platform).agents[0]
    refused = outbound_call(platform, agent, TUESDAY_10, REFUSAL)
    again = outbound_call(platform, agent, TUESDAY_10 + timedelta(days=30), "好的，你说")
    other = outbound_call(platform, agent, TUESDAY_10 + timedelta(days=30), "好的", "138****0000")
    later = outbound_call(platform, agent, TUESDAY_10 + timedelta(days=95), "好的，你说")
    for call_id in (refused, again, other, later):
        flag_service.compute_flags(platform, call_id)

    assert set(stored(platform, refused)) == {"outbound_refusal"}
    cooling = stored(platform, again)["outbound_cooling"]
    assert cooling.severity == "critical"
    assert cooling.evidence == "客户于 2026-03-03 拒绝呼出，30 天后再次外呼，冷却期 90 天"
    assert stored(platform, other) == {}  # another customer
    assert stored(platform, later) == {}  # the cooling period is over


def test_calling_hours_use_the_centre_time_zone_and_calendar_from_the_settings(
    platform: Platform, tmp_path: Path
) -> None:
    agent = make_people(platform).agents[0]
    evening = outbound_call(platform, agent, datetime(2026, 3, 3, 12, 30, tzinfo=UTC), "好的")
    holiday = outbound_call(platform, agent, datetime(2026, 10, 1, 2, 0, tzinfo=UTC), "好的")
    flag_service.compute_flags(platform, evening)  # 20:30 in Shanghai
    flag_service.compute_flags(platform, holiday)  # 10:00 on National Day
    assert stored(platform, evening)["outbound_hours"].evidence_key == "outbound_hours.forbidden"
    assert stored(platform, holiday)["outbound_hours"].evidence_key == "outbound_hours.holiday"

    calendar = tmp_path / "calendar.yaml"
    calendar.write_text("holidays: [2026-03-03]\nmakeup_workdays: []\n", encoding="utf-8")
    settings = replace(
        platform.settings, centre_timezone="UTC", holiday_calendar_path=str(calendar)
    )
    other_centre = make_platform(settings)
    flag_service.compute_flags(other_centre, evening)  # 12:30 UTC, a holiday of this centre
    flag_service.compute_flags(other_centre, holiday)  # 02:00 UTC: too early, not a holiday
    assert stored(platform, evening)["outbound_hours"].evidence_key == "outbound_hours.holiday"
    assert stored(platform, holiday)["outbound_hours"].evidence_key == "outbound_hours.forbidden"


def test_an_inbound_call_at_night_gets_no_outbound_flag(platform: Platform) -> None:
    agent = make_people(platform).agents[0]
    call_id = add_call(
        platform, agent, None, direction="in", started_at=TUESDAY_10 + timedelta(hours=12)
    )
    flag_service.compute_flags(platform, call_id)
    assert stored(platform, call_id) == {}


def test_a_rerun_keeps_the_outbound_flags(platform: Platform) -> None:
    agent = make_people(platform).agents[0]
    refused = outbound_call(platform, agent, TUESDAY_10, REFUSAL)
    again = outbound_call(platform, agent, TUESDAY_10 + timedelta(days=3), "好的")
    for call_id in (refused, again):
        flag_service.compute_flags(platform, call_id)
        with platform.uow() as uow:
            pipeline_service.mark_analysed(uow.session, call_id)
            uow.commit()
    flag_service.rerun(platform)
    assert "outbound_cooling" in stored(platform, again)
    assert "outbound_refusal" in stored(platform, refused)
