"""The pipeline page (处理进度): counts per stage and status in the viewer's scope, failed calls
and dead letters with their reason, and the audited retry action."""

from __future__ import annotations

from sqlalchemy import select

from qa_platform.domain.pipeline import JobStatus
from qa_platform.queries.calls import show_call
from storage.models import AuditEvent
from tests.helpers.job_states import dead_letter, fail_permanently
from tests.web.conftest import Browser, as_user

REASON = "ModelUnavailable: large-v3 is not installed on this node"


def _jobs(platform, call_id: int) -> dict[str, tuple[str, int]]:
    return {j["stage"]: (j["status"], j["attempts"]) for j in show_call(platform, call_id)["jobs"]}


def _retry_audits(platform) -> list[AuditEvent]:
    with platform.uow() as uow:
        rows = uow.session.scalars(select(AuditEvent).where(AuditEvent.action == "job.retry"))
        found = list(rows)
        uow.session.expunge_all()
        return found


def test_the_page_counts_stages_and_lists_dead_letters_with_the_reason(app, world, platform):
    dead_letter(platform, world.call_id, "transcribe", REASON)
    html = as_user(app, "sup").get("/pipeline").get_data(as_text=True)
    assert "处理进度" in html and "语音识别" in html and "死信" in html
    assert REASON in html
    assert f'data-call="{world.call_id}"' in html
    row = html.split('data-stage="features"')[1].split("</tr>")[0]
    assert 'data-job="done">1<' in row
    row = html.split('data-stage="transcribe"')[1].split("</tr>")[0]
    assert 'data-job="dead_letter">1<' in row
    assert 'data-status="failed">1<' in html


def test_a_permanent_failure_is_listed_with_its_reason(app, world, platform):
    fail_permanently(platform, world.other_call_id, "features", "坏文件: cannot be decoded")
    html = as_user(app, "admin").get("/pipeline").get_data(as_text=True)
    failed = html.split('id="pipe-failed"')[1]
    assert "坏文件: cannot be decoded" in failed and f'data-call="{world.other_call_id}"' in failed


def test_a_supervisor_sees_only_calls_in_scope(app, world, platform):
    dead_letter(platform, world.call_id, "transcribe", REASON)  # 一组
    html = as_user(app, "teamsup").get("/pipeline").get_data(as_text=True)  # oversees 二组
    assert REASON not in html and 'data-status="failed">0<' in html


def test_retry_resets_a_dead_letter_and_writes_an_audit_row(app, world, platform):
    dead_letter(platform, world.call_id, "transcribe", REASON)
    sup = as_user(app, "sup")
    resp = sup.post("/pipeline/retry", {"call_id": str(world.call_id), "stage": "transcribe"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/pipeline")
    assert _jobs(platform, world.call_id)["transcribe"] == (JobStatus.QUEUED, 0)
    assert _jobs(platform, world.call_id)["features"] == (JobStatus.DONE, 1)
    shown = show_call(platform, world.call_id)
    assert shown["status"] == "queued" and shown["error"] is None
    [audit] = _retry_audits(platform)
    assert audit.actor == f"user:{world.ids['sup']}" and audit.object_id == str(world.call_id)
    assert audit.details["previous"] == {"transcribe": "dead_letter"}
    assert REASON in audit.details["errors"]["transcribe"]
    page = sup.get("/pipeline").get_data(as_text=True)
    assert "已重置并重新排队" in page and REASON not in page


def test_retry_outside_the_scope_is_not_found_and_changes_nothing(app, world, platform):
    dead_letter(platform, world.call_id, "transcribe", REASON)
    resp = as_user(app, "teamsup").post("/pipeline/retry", {"call_id": str(world.call_id)})
    assert resp.status_code == 404
    assert _jobs(platform, world.call_id)["transcribe"][0] == JobStatus.DEAD_LETTER
    assert _retry_audits(platform) == []


def test_retry_of_an_unknown_call_is_not_found(app, world):
    resp = as_user(app, "admin").post("/pipeline/retry", {"call_id": "987654"})
    assert resp.status_code == 404


def test_bad_ids_and_stages_are_a_400_naming_the_field(app, world):
    admin = as_user(app, "admin")
    for raw in ("abc", "-1", "0", "", "1e3", "99999999999999999999"):
        resp = admin.post("/pipeline/retry", {"call_id": raw})
        assert resp.status_code == 400, raw
        assert "call_id" in resp.get_data(as_text=True), raw
    resp = admin.post("/pipeline/retry", {"call_id": str(world.call_id), "stage": "asr"})
    assert resp.status_code == 400 and "unknown pipeline stage" in resp.get_data(as_text=True)


def test_retry_of_a_call_with_nothing_failed_says_so(app, world, platform):
    sup = as_user(app, "sup")
    resp = sup.post("/pipeline/retry", {"call_id": str(world.call_id)})
    assert resp.status_code == 303
    assert "no failed or dead-lettered job" in sup.get("/pipeline").get_data(as_text=True)
    assert _retry_audits(platform) == []


def test_retry_needs_the_csrf_token(app, world, platform):
    dead_letter(platform, world.call_id, "transcribe", REASON)
    sup = as_user(app, "sup")
    resp = sup.client.post("/pipeline/retry", data={"call_id": str(world.call_id)})
    assert resp.status_code == 400
    assert _jobs(platform, world.call_id)["transcribe"][0] == JobStatus.DEAD_LETTER


def test_inspectors_agents_and_anonymous_users_are_denied(app, world):
    for who in ("insp", "agent"):
        b = as_user(app, who)
        assert b.get("/pipeline").status_code == 403
        assert b.post("/pipeline/retry", {"call_id": str(world.call_id)}).status_code == 403
    anon = Browser(app.test_client())
    anon.get("/login")
    assert "/login" in anon.get("/pipeline").headers["Location"]
