"""``qa retry CALL_ID [--stage S] [--json]``: the pipeline retry service from the command line;
embedded (eager) mode runs the reset work in process."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli import main
from qa_platform.queries.calls import show_call
from qa_platform.services.context import Platform
from storage.models import AuditEvent
from tests.factories import tone_wav
from tests.helpers.job_states import dead_letter
from tests.helpers.pipeline import ingest

REASON = "finish: database went away"


def _dead_at_finish(platform: Platform, tmp_path: Path) -> int:
    call_id = ingest(platform, tone_wav(tmp_path / "r.wav", 2.0, 300.0))
    dead_letter(platform, call_id, "finish", REASON)
    assert show_call(platform, call_id)["status"] == "failed"
    return call_id


def test_retry_json_resets_the_dead_letter_and_runs_it_in_process(platform, tmp_path):
    call_id = _dead_at_finish(platform, tmp_path)
    result = CliRunner().invoke(main, ["retry", str(call_id), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "call_id": call_id,
        "stages": ["finish"],
        "previous": {"finish": "dead_letter"},
        "status": "analysed",
        "sent": True,
    }
    jobs = {j["stage"]: (j["status"], j["attempts"]) for j in show_call(platform, call_id)["jobs"]}
    assert jobs["finish"] == ("done", 1)
    with platform.uow() as uow:
        audit = uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "job.retry"))
        assert audit.actor == "cli" and audit.object_id == str(call_id)
        assert audit.details["errors"]["finish"].endswith(REASON)


def test_retry_of_a_stage_that_did_not_fail_is_refused_with_exit_2(platform, tmp_path):
    call_id = _dead_at_finish(platform, tmp_path)
    result = CliRunner().invoke(main, ["retry", str(call_id), "--stage", "features", "--json"])
    assert result.exit_code == 2
    assert "no failed or dead-lettered job" in result.output
    assert show_call(platform, call_id)["status"] == "failed"  # nothing changed


def test_retry_names_an_unknown_stage_and_an_unknown_call(platform, tmp_path):
    call_id = _dead_at_finish(platform, tmp_path)
    bad_stage = CliRunner().invoke(main, ["retry", str(call_id), "--stage", "asr"])
    assert bad_stage.exit_code == 2 and "transcribe" in bad_stage.output
    unknown = CliRunner().invoke(main, ["retry", "424242"])
    assert unknown.exit_code == 2 and "424242" in unknown.output
    not_an_id = CliRunner().invoke(main, ["retry", "abc"])
    assert not_an_id.exit_code == 2
