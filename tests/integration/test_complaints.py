"""Complaint closed loop (投诉闭环) on the real database: cases opened by a person or proposed from
``complaint_risk``, calls moved to 5-year retention, supervisor alerts by log and by real SMTP
(a small SMTP server on a local socket), deadlines and the overdue list, closing with an
outcome, the audit, ``qa complaints`` and ``qa call show``."""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli import main
from qa_platform.clock import FixedClock
from qa_platform.domain.complaints import ALERT_WITHIN, ComplaintConflict, ComplaintInvalid
from qa_platform.domain.transcript import Role, Severity
from qa_platform.services import complaints as svc
from qa_platform.services import flags as flag_service
from qa_platform.services.alerts import SmtpNotifier
from qa_platform.services.context import Platform
from storage.audit import verify_chain
from storage.models import AuditEvent, Call
from tests.factories import add_call, flag, make_people


# --------------------------------------------------------------------------- a real SMTP server
class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 sink ready")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb == "DATA":
                self.reply("354 go ahead")
                body = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                assert isinstance(self.server, _SmtpSink)
                self.server.messages.append(body)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


class _SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages: list[bytes] = []


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, list[bytes]]]:
    server = _SmtpSink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1]), server.messages
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- data
def _flagged_call(platform: Platform, agent: int, severity: Severity, **fields: object) -> int:
    call_id = add_call(platform, agent, None, **fields)
    risk = flag("complaint_risk", severity, Role.CUSTOMER, 3.0, 4.0, "“投诉”，原话：“我要投诉”")
    with platform.uow() as uow:
        flag_service.replace_flags(uow.session, {call_id: [risk]})
        uow.commit()
    return call_id


def _call(platform: Platform, call_id: int) -> Call:
    with platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        uow.session.expunge_all()
    return call


def _actions(platform: Platform, case_id: int) -> list[str]:
    with platform.uow() as uow:
        rows = uow.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "complaint_case", AuditEvent.object_id == str(case_id))
            .order_by(AuditEvent.seq)
        )
        return list(rows)


# --------------------------------------------------------------------------- tests
def test_a_person_opens_a_case_the_calls_move_to_five_years_and_the_log_alerts(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    agent = make_people(platform).agents[0]
    calls = [add_call(platform, agent, None) for _ in range(2)]
    with caplog.at_level(logging.WARNING, logger="qa_platform.services.alerts"):
        case = svc.open_case(platform, calls, "complaint", "客户投诉理赔进度慢", actor="sup1")
    assert case.state == "open" and case.source == "manual" and case.call_ids == tuple(calls)
    assert case.alert_channel == "log" and case.alerted_at is not None
    assert f"【投诉预警】一般投诉工单 #{case.id}" in caplog.text
    for call_id in calls:
        call = _call(platform, call_id)
        assert "complaint" in call.retention_class.split(",")
        assert call.retain_until.year == call.started_at.year + 5
    assert _actions(platform, case.id) == ["complaint.open", "complaint.alert"]


def test_bad_input_is_refused_and_nothing_is_written(platform: Platform) -> None:
    agent = make_people(platform).agents[0]
    call_id = add_call(platform, agent, None)
    with pytest.raises(ComplaintInvalid, match="no such calls: 999"):
        svc.open_case(platform, [call_id, 999], "complaint", "x", actor="sup1")
    with pytest.raises(ComplaintInvalid, match="not one of"):
        svc.open_case(platform, [call_id], "rant", "x", actor="sup1")
    with pytest.raises(ComplaintInvalid, match="summary is required"):
        svc.open_case(platform, [call_id], "complaint", " ", actor="sup1")
    assert svc.list_cases(platform) == []
    assert _call(platform, call_id).retention_class == "standard"


def test_the_scan_proposes_cases_from_flags_within_minutes_and_only_once(
    platform: Platform,
) -> None:
    agent = make_people(platform).agents[0]
    analysed_at = datetime.now(UTC)
    plain = _flagged_call(platform, agent, Severity.WARNING, updated_at=analysed_at)
    regulator = _flagged_call(platform, agent, Severity.CRITICAL, updated_at=analysed_at)
    _flagged_call(platform, agent, Severity.WARNING, status="transcribing")  # not analysed yet
    add_call(platform, agent, None)  # no flag

    result = svc.scan(platform)

    assert len(result.proposed) == 2 and sorted(result.alerted) == sorted(result.proposed)
    cases = {c.call_ids[0]: c for c in svc.list_cases(platform)}
    assert set(cases) == {plain, regulator}
    assert cases[plain].kind == "complaint" and cases[regulator].kind == "major"
    assert all(c.state == "proposed" and c.source == "auto" for c in cases.values())
    for case in cases.values():
        assert datetime.fromisoformat(case.alerted_at) - analysed_at < ALERT_WITHIN
        assert "complaint" in _call(platform, case.call_ids[0]).retention_class
    assert svc.scan(platform).to_dict() == {"proposed": [], "alerted": [], "failed": []}


def test_alerts_go_by_smtp_and_a_failed_delivery_is_retried(
    platform: Platform, smtp_sink: tuple[int, list[bytes]]
) -> None:
    port, messages = smtp_sink
    agent = make_people(platform).agents[0]
    _flagged_call(platform, agent, Severity.CRITICAL)
    down = replace(
        platform.settings,
        smtp_host="127.0.0.1",
        smtp_port=_closed_port(),
        complaint_alert_to=("sup@example.cn",),
    )
    failed = svc.scan(platform, SmtpNotifier(down, timeout_s=2.0))
    assert failed.failed == failed.proposed and failed.alerted == ()
    assert svc.list_cases(platform)[0].alerted_at is None

    up = replace(down, smtp_port=port)
    retried = svc.scan(platform, SmtpNotifier(up))
    assert retried.proposed == () and retried.alerted == failed.proposed
    (raw,) = messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "sup@example.cn"
    assert str(make_header(decode_header(mail["Subject"]))).startswith("【投诉预警】重大投诉工单")
    assert "关联通话" in mail.get_payload(decode=True).decode("utf-8")
    assert svc.list_cases(platform)[0].alert_channel == "smtp"


def test_confirm_close_with_outcome_and_the_audit_chain(platform: Platform) -> None:
    agent = make_people(platform).agents[0]
    _flagged_call(platform, agent, Severity.WARNING)
    (case_id,) = svc.scan(platform).proposed
    confirmed = svc.confirm_case(platform, case_id, "sup1", kind="grievance")
    assert confirmed.state == "open" and confirmed.kind == "grievance"
    assert confirmed.decided_by == "sup1"
    with pytest.raises(ComplaintInvalid, match="outcome is required"):
        svc.close_case(platform, case_id, "", "sup1")
    with pytest.raises(ComplaintConflict, match="changed"):
        svc.close_case(platform, case_id, "已解释", "sup1", expected_version=1)
    closed = svc.close_case(platform, case_id, "已向客户解释并致歉", "sup1")
    assert closed.state == "closed" and closed.outcome == "已向客户解释并致歉"
    with pytest.raises(ComplaintConflict, match="cannot close"):
        svc.close_case(platform, case_id, "again", "sup2")
    assert _actions(platform, case_id) == [
        "complaint.propose",
        "complaint.alert",
        "complaint.confirm",
        "complaint.close",
    ]
    with platform.uow() as uow:
        assert verify_chain(uow.session).ok


def test_a_dismissed_proposal_is_not_proposed_again(platform: Platform) -> None:
    agent = make_people(platform).agents[0]
    _flagged_call(platform, agent, Severity.WARNING)
    (case_id,) = svc.scan(platform).proposed
    dismissed = svc.dismiss_case(platform, case_id, "客户只是询问投诉渠道", "sup1")
    assert dismissed.state == "dismissed" and dismissed.outcome == "客户只是询问投诉渠道"
    assert svc.scan(platform).proposed == ()


def test_overdue_cases_are_listed_after_ten_working_days(platform: Platform) -> None:
    agent = make_people(platform).agents[0]
    call_id = add_call(platform, agent, None)
    opened = FixedClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Monday 10:00 Shanghai
    at_open = replace(platform, clock=opened)
    case = svc.open_case(at_open, [call_id], "complaint", "保全变更未处理", actor="sup1")
    # 10 working days after Monday 2 March: 3–6, 9–13 and Monday 16; due by its end.
    assert datetime.fromisoformat(case.deadline_at) == datetime(2026, 3, 16, 16, 0, tzinfo=UTC)
    opened.at = datetime(2026, 3, 16, 15, 59, tzinfo=UTC)  # Mon 16, 23:59 Shanghai
    assert svc.list_cases(at_open, overdue=True) == []
    opened.at = datetime(2026, 3, 16, 16, 0, tzinfo=UTC)
    (late,) = svc.list_cases(at_open, overdue=True)
    assert late.id == case.id and late.overdue
    svc.close_case(at_open, case.id, "已补办", "sup1")
    assert svc.list_cases(at_open, overdue=True) == []


def test_cli_open_list_close_and_call_show(platform: Platform) -> None:
    agent = make_people(platform).agents[0]
    call_id = add_call(platform, agent, None)
    runner = CliRunner()

    def qa(*args: str) -> object:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    opened = qa("complaints", "open", "--call", str(call_id), "--summary", "服务态度差", "--json")
    assert opened["state"] == "open" and opened["call_ids"] == [call_id]
    listed = qa("complaints", "list", "--state", "open", "--json")
    assert [c["id"] for c in listed] == [opened["id"]]
    shown = qa("call", "show", str(call_id), "--json")
    assert shown["complaints"] == [
        {
            "id": opened["id"],
            "kind": "complaint",
            "state": "open",
            "deadline_at": opened["deadline_at"],
            "overdue": False,
        }
    ]
    missing = runner.invoke(main, ["complaints", "close", str(opened["id"]), "--json"])
    assert missing.exit_code == 2 and "--outcome" in missing.output
    closed = qa("complaints", "close", str(opened["id"]), "--outcome", "已致歉", "--json")
    assert closed["state"] == "closed" and closed["closed_by"] == "cli"
    refused = runner.invoke(main, ["complaints", "close", str(opened["id"]), "--outcome", "x"])
    assert refused.exit_code == 2 and "已结案" in refused.output


def test_beat_scans_every_minute_and_the_task_proposes(platform: Platform) -> None:
    from workers.celery_app import make_celery
    from workers.upkeep_tasks import COMPLAINT_SCAN

    app = make_celery(platform.settings)  # embedded default: eager, same task code
    (entry,) = [e for e in app.conf.beat_schedule.values() if e["task"] == COMPLAINT_SCAN]
    assert entry["schedule"] <= 60 and app.conf.task_routes[COMPLAINT_SCAN] == {"queue": "cpu"}
    agent = make_people(platform).agents[0]
    call_id = _flagged_call(platform, agent, Severity.WARNING)
    result = app.tasks[COMPLAINT_SCAN].apply().get()
    assert len(result["proposed"]) == 1 and result["alerted"] == result["proposed"]
    assert svc.list_cases(platform)[0].call_ids == (call_id,)
