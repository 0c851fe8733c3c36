"""Complaint cases (投诉工单): kinds, deadlines in working days, transitions and their errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from qa_platform.domain.complaints import (
    MAX_TEXT,
    CaseState,
    ComplaintCase,
    ComplaintConflict,
    ComplaintInvalid,
    ComplaintKind,
    deadline_for,
    parse_kind,
)
from qa_platform.services.outbound import default_calendar_path
from scoring.calendar import WorkingCalendar

CALENDAR = WorkingCalendar.load(default_calendar_path())
SHANGHAI = "Asia/Shanghai"


def case(state: CaseState = CaseState.OPEN) -> ComplaintCase:
    return ComplaintCase(7, ComplaintKind.COMPLAINT, state, datetime(2026, 3, 16, tzinfo=UTC))


def test_a_complaint_has_ten_working_days_across_mid_autumn_and_national_day() -> None:
    # Accepted Friday 18 September 2026, 10:00 in Shanghai. Working days after it: 20 (调休
    # Sunday), 21–24, 28–30 (25–27 中秋), 8 and 9 October (1–7 国庆): the 10th is 9 October.
    accepted = datetime(2026, 9, 18, 2, 0, tzinfo=UTC)
    deadline = deadline_for(ComplaintKind.COMPLAINT, accepted, CALENDAR, SHANGHAI)
    assert deadline.isoformat() == "2026-10-10T00:00:00+08:00"


def test_a_grievance_has_two_working_days_and_the_local_day_counts() -> None:
    # 17:00 UTC on Sunday 1 March is 01:00 on Monday 2 March in Shanghai.
    accepted = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    deadline = deadline_for(ComplaintKind.GRIEVANCE, accepted, CALENDAR, SHANGHAI)
    assert deadline.isoformat() == "2026-03-05T00:00:00+08:00"  # Tue 3, Wed 4 count


def test_closing_needs_an_outcome_and_an_open_case() -> None:
    with pytest.raises(ComplaintInvalid, match="outcome is required"):
        case().close("   ")
    with pytest.raises(ComplaintInvalid, match=f"more than {MAX_TEXT}"):
        case().close("很" * (MAX_TEXT + 1))
    open_case = case()
    assert open_case.close(" 已向客户解释并致歉，客户接受 ") == "已向客户解释并致歉，客户接受"
    assert open_case.state is CaseState.CLOSED
    with pytest.raises(ComplaintConflict) as err:
        open_case.close("again")
    assert err.value.localized("zh") == (
        "投诉工单 7 当前状态为“已结案”，无法结案；只允许在以下状态进行：处理中"
    )


def test_only_a_proposal_is_confirmed_or_dismissed() -> None:
    proposal = case(CaseState.PROPOSED)
    proposal.confirm(ComplaintKind.MAJOR)
    assert proposal.state is CaseState.OPEN and proposal.kind is ComplaintKind.MAJOR
    with pytest.raises(ComplaintConflict, match="cannot confirm"):
        proposal.confirm()
    with pytest.raises(ComplaintInvalid, match="reason is required"):
        case(CaseState.PROPOSED).dismiss("")
    with pytest.raises(ComplaintConflict, match="cannot dismiss"):
        case(CaseState.OPEN).dismiss("不是投诉")


def test_overdue_means_unresolved_at_or_after_the_deadline() -> None:
    deadline = datetime(2026, 3, 16, tzinfo=UTC)
    assert case().overdue(deadline) and not case().overdue(datetime(2026, 3, 15, tzinfo=UTC))
    assert not case(CaseState.CLOSED).overdue(deadline)
    assert case(CaseState.PROPOSED).overdue(deadline)


def test_an_unknown_kind_is_refused_in_chinese() -> None:
    with pytest.raises(ComplaintInvalid) as err:
        parse_kind("rant")
    assert "投诉类别“rant”无效" in err.value.localized("zh")
    assert parse_kind("major") is ComplaintKind.MAJOR
