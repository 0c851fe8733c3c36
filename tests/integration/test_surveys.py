"""Satisfaction surveys imported after the call (issue 14 item 4): per-row checks, idempotent
re-import, the call's rating and its roll-up slice updated in the same transaction, and A.1
客户满意度 over every customer who rated — not only the inspected calls."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from qa_platform.cli import main
from qa_platform.services.surveys import SurveyFileInvalid, import_surveys, read_survey_csv
from scoring.reports.rollup import rebuild_rollups
from scoring.reports.snapshots import compute_report
from storage.audit import verify_chain
from storage.models import AuditEvent, Call
from storage.models_surveys import SurveyResponseRow
from tests.factories import T0, add_call, make_people

HEADER = "call_external_id,survey_id,rating,answered_at,channel\n"
LATER = (T0 + timedelta(hours=2)).isoformat()


@pytest.fixture
def calls(platform):
    people = make_people(platform)
    ids = [add_call(platform, people.agents[n % 2], None, external_id=f"EXT-{n}") for n in range(6)]
    return people, ids


@pytest.fixture
def app(platform):
    from web import create_app

    application = create_app({"TESTING": True})
    application.extensions["qa_platform"] = platform
    return application


def _csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode()


def _rating(platform, call_id):
    with platform.uow() as uow:
        return uow.session.get(Call, call_id).satisfaction


def test_rows_are_checked_one_by_one_and_the_good_ones_stored(platform, calls):
    _, ids = calls
    data = _csv(
        f"EXT-0,S-1,5,{LATER},sms",
        f"EXT-1,S-2,2,{LATER},ivr",
        f"EXT-2,S-3,0,{LATER},sms",  # not a rating
        "EXT-3,S-4,4,2026-03-01T10:00:00+08:00,sms",  # before the call
        f"EXT-4,S-5,4,{LATER},pigeon",  # unknown channel
        f"NOPE,S-6,4,{LATER},sms",  # unknown call
        "EXT-5,S-7,4,2026-03-02T12:00:00,sms",  # no time zone
        f"EXT-5,S-8,4.5,{LATER},sms",
    )
    done = import_surveys(platform, read_survey_csv(data), actor="t")
    assert done.counts == {"imported": 2, "duplicate": 0, "rejected": 6}
    errors = {r.line: r.error("zh") for r in done.rows if r.status == "rejected"}
    assert "第 4 行" in errors[4] and "1 到 5" in errors[4]
    assert "早于通话开始" in errors[5]
    assert "pigeon" in errors[6]
    assert "NOPE" in errors[7]
    assert "时区" in errors[8]
    assert "4.5" in errors[9]
    assert (_rating(platform, ids[0]), _rating(platform, ids[1])) == (5, 2)
    assert _rating(platform, ids[2]) is None
    with platform.uow() as uow:
        assert uow.session.scalar(select(func.count(SurveyResponseRow.id))) == 2
        audit = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "survey.import")
        ).all()
        assert len(audit) == 1 and audit[0].details["imported"] == 2
        assert verify_chain(uow.session).ok


def test_a_reimport_is_a_no_op_and_the_latest_answer_wins(platform, calls):
    _, ids = calls
    first = _csv(f"EXT-0,S-1,5,{LATER},sms")
    import_surveys(platform, read_survey_csv(first), actor="t")
    again = import_surveys(platform, read_survey_csv(first), actor="t")
    assert again.counts == {"imported": 0, "duplicate": 1, "rejected": 0}
    later = (T0 + timedelta(days=1)).isoformat()
    import_surveys(platform, read_survey_csv(_csv(f"EXT-0,S-9,1,{later},ivr")), actor="t")
    assert _rating(platform, ids[0]) == 1
    earlier = (T0 + timedelta(hours=1)).isoformat()  # arrives last, answered first
    import_surveys(platform, read_survey_csv(_csv(f"EXT-0,S-10,4,{earlier},ivr")), actor="t")
    assert _rating(platform, ids[0]) == 1


def test_a_bad_file_names_the_problem_and_stores_nothing(platform, calls):
    with pytest.raises(SurveyFileInvalid) as caught:
        read_survey_csv(b"call,score\nEXT-0,5\n")
    assert "call_external_id" in caught.value.localized("zh")
    with pytest.raises(SurveyFileInvalid):
        read_survey_csv(b"\xff\xfe not utf-8")


def test_a1_counts_every_rated_customer_not_only_the_sample(platform, calls):
    rows = [f"EXT-{n},S-{n},{r},{LATER},sms" for n, r in enumerate((5, 4, 3, 1, 5))]
    import_surveys(platform, read_survey_csv(_csv(*rows)), actor="t")
    day = date(2026, 3, 2)
    raw = compute_report(platform.uow(), "daily", day, now=T0 + timedelta(days=40))
    centre = raw["payload"]["centre"]
    # no call was inspected: the sample-based figure has no base, A.1 has five customers
    assert (centre["customers_rated"], centre["customers_satisfied"]) == (5, 3)
    assert centre["customer_satisfaction_rate"] == pytest.approx(0.6)
    assert centre["satisfaction_rated"] == 0
    # the roll-up counts the same (rebuilt, then maintained by a later import)
    rebuild_rollups(platform.uow(), now=T0 + timedelta(days=40))
    import_surveys(platform, read_survey_csv(_csv(f"EXT-5,S-5b,4,{LATER},app")), actor="t")
    rolled = compute_report(platform.uow(), "daily", day, now=T0 + timedelta(days=41))
    centre = rolled["payload"]["centre"]
    assert (centre["customers_rated"], centre["customers_satisfied"]) == (6, 4)


def test_cli_import_prints_chinese_and_exits_1_on_a_rejected_row(platform, calls, tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(_csv(f"EXT-0,S-1,5,{LATER},sms", f"EXT-1,S-2,9,{LATER},sms"))
    r = CliRunner().invoke(main, ["surveys", "import", str(path)])
    assert r.exit_code == 1 and "导入 1 条" in r.output and "第 3 行" in r.output
    r = CliRunner().invoke(main, ["surveys", "import", str(path), "--json"])
    body = json.loads(r.stdout)
    assert body["counts"] == {"imported": 0, "duplicate": 1, "rejected": 1}


def test_api_import_for_supervisors_only(app, platform, calls):
    from qa_platform.services.auth import create_token
    from tests.factories import add_person

    add_person(platform, "sup_s", "supervisor")
    add_person(platform, "agent_s", "agent", "一组", "Z001")
    token = create_token(platform, "sup_s", scopes=("read", "write"))
    c = app.test_client()
    h = {"Authorization": f"Bearer {token}"}
    body = {
        "rows": [
            {
                "call_external_id": "EXT-1",
                "survey_id": "A-1",
                "rating": 4,
                "answered_at": LATER,
                "channel": "wechat",
            }
        ]
    }
    r = c.post("/api/v1/surveys", json=body, headers=h)
    assert r.status_code == 200 and r.get_json()["counts"]["imported"] == 1, r.get_json()
    r = c.post(
        "/api/v1/surveys", data=_csv(f"EXT-2,A-2,x,{LATER},sms"), headers=h, content_type="text/csv"
    )
    assert r.status_code == 200 and "1 到 5" in r.get_json()["rows"][0]["error"]
    r = c.post("/api/v1/surveys", json={"rows": [{"colour": "red"}]}, headers=h)
    assert r.status_code == 400 and "colour" in r.get_json()["error"]
    row = {"call_external_id": "EXT-3", "survey_id": "A-3", "rating": 1, "answered_at": LATER}
    nan = json.dumps({"rows": [row]}).replace('"rating": 1', '"rating": NaN')
    r = c.post("/api/v1/surveys", data=nan, headers=h, content_type="application/json")
    assert r.status_code == 200 and r.get_json()["counts"]["rejected"] == 1
    assert "NaN" in r.get_json()["rows"][0]["error"] or "nan" in r.get_json()["rows"][0]["error"]
    agent = create_token(platform, "agent_s", scopes=("read", "write"))
    r = c.post("/api/v1/surveys", json=body, headers={"Authorization": f"Bearer {agent}"})
    assert r.status_code == 403
    assert _rating(platform, calls[1][1]) == 4
