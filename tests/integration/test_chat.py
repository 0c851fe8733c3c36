"""Chat QA (网络对话, 智能客服): a JSON-lines chat ingested, masked, flagged, sampled.

Real parts: the database (SQLite or PostgreSQL), the ingest service and ``qa`` commands, the
pipeline's Celery tasks run eagerly (flags → autoqa → finish; no audio stages run).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from qa_platform.cli.core import ingest
from qa_platform.cli.pipeline import process
from qa_platform.domain.calls import CallMetadata
from qa_platform.domain.pipeline import PIPELINE_VERSION
from qa_platform.flags.catalogue import AUDIO_RULES
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.retention import purge
from scoring.plan import PlanFilters, SamplingPlan
from scoring.reports import compute_report
from scoring.sampling import SamplingError
from scoring.services.runs import run_sampling
from storage.models import Call, CallFlag, Job, Recording
from storage.models_autoqa import AutoEvaluationRow
from storage.models_pipeline import CallFeatures, TranscriptSegment
from tests.factories import add_call, make_people

FIXTURE = Path(__file__).parent.parent / "data" / "chat_claim_zh.jsonl"


def _ingest_chat(path: Path = FIXTURE) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(ingest, [str(path), "--agent", "3821", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)[0]


def _process() -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(process, ["--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _flags(platform: Platform, call_id: int) -> list[CallFlag]:
    with platform.uow() as uow:
        rows = uow.session.scalars(select(CallFlag).where(CallFlag.call_id == call_id))
        return list(rows)


def test_a_mandarin_chat_is_ingested_masked_and_flagged_without_audio(platform: Platform) -> None:
    created = _ingest_chat()
    assert created["status"] == "created"
    call_id = created["call_id"]
    _process()
    with platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        assert call is not None
        assert (call.channel, call.status) == ("chat", "analysed")
        texts = list(
            uow.session.scalars(
                select(TranscriptSegment.text)
                .where(TranscriptSegment.call_id == call_id)
                .order_by(TranscriptSegment.idx)
            )
        )
        speakers = list(
            uow.session.scalars(
                select(TranscriptSegment.speaker).where(TranscriptSegment.call_id == call_id)
            )
        )
        recordings = uow.session.scalar(
            select(func.count()).select_from(Recording).where(Recording.call_id == call_id)
        )
        features = uow.session.scalar(
            select(func.count()).select_from(CallFeatures).where(CallFeatures.call_id == call_id)
        )
    assert len(texts) == 10 and "bot" in speakers
    assert not any("13812345678" in t for t in texts)
    assert "[手机号]" in texts[4]
    assert (recordings, features) == (0, 0)
    flags = {f.type: f for f in _flags(platform, call_id)}
    assert "complaint_risk" in flags and "投诉" in flags["complaint_risk"].evidence
    assert "abuse_customer" in flags and "骗子" in flags["abuse_customer"].evidence
    assert not set(flags) & AUDIO_RULES


def test_the_audio_stages_of_a_chat_are_done_without_running(platform: Platform) -> None:
    call_id = _ingest_chat()["call_id"]
    _process()
    with platform.uow() as uow:
        jobs = {
            j.stage: (j.status, j.attempts)
            for j in uow.session.scalars(
                select(Job).where(Job.call_id == call_id, Job.pipeline_version == PIPELINE_VERSION)
            )
        }
    assert jobs["features"] == ("done", 0) and jobs["transcribe"] == ("done", 0)
    assert jobs["flags"][0] == jobs["autoqa"][0] == jobs["finish"][0] == "done"


def test_ingesting_and_processing_a_chat_twice_changes_nothing(platform: Platform) -> None:
    first = _ingest_chat()
    _process()
    before = sorted((f.type, f.start, f.evidence) for f in _flags(platform, first["call_id"]))
    again = _ingest_chat()
    _process()
    assert again == first | {"status": "duplicate"}
    after = sorted((f.type, f.start, f.evidence) for f in _flags(platform, first["call_id"]))
    assert after == before
    with platform.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Call)) == 1


def test_a_bad_line_rejects_the_chat_and_stores_nothing(platform: Platform, tmp_path: Path) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    lines[6] = '{"time": "2026-11-20T09:29:00+08:00", "role": "customer", "text": "早"}'
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines), encoding="utf-8")
    result = ingest_file(platform, bad, CallMetadata())
    assert result.status == "rejected"
    assert result.error is not None and "bad.jsonl:7: time goes back" in result.error
    with platform.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Call)) == 0
        assert uow.session.scalar(select(func.count()).select_from(TranscriptSegment)) == 0


def test_a_plan_with_channels_chat_samples_only_chats(platform: Platform, tmp_path: Path) -> None:
    people = make_people(platform)
    voice = {add_call(platform, a, people.teams[a]) for a in people.agents}
    other = tmp_path / "other.jsonl"
    other.write_text('{"time": 0, "role": "customer", "text": "请问怎么退保？"}\n', "utf-8")
    chats = {_ingest_chat()["call_id"], _ingest_chat(other)["call_id"]}
    _process()

    def sample(channels: tuple[str, ...], size: int) -> set[int]:
        plan = SamplingPlan("p", size=size, filters=PlanFilters(channels=channels))
        return set(run_sampling(platform.uow(), plan, seed=7)["call_ids"])

    assert sample(("chat",), 2) == chats
    assert sample(("voice",), len(voice)) == voice
    assert sample((), len(voice) + 2) == voice | chats


def test_a_plan_naming_an_unknown_channel_is_refused() -> None:
    with pytest.raises(SamplingError, match="channels \\['fax'\\] unknown"):
        SamplingPlan.from_mapping({"name": "p", "size": 1, "filters": {"channels": ["fax"]}})


def test_auto_qa_of_a_chat_judges_the_script_and_leaves_the_audio_items_to_people(
    platform: Platform,
) -> None:
    call_id = _ingest_chat()["call_id"]
    _process()
    with platform.uow() as uow:
        row = uow.session.scalar(
            select(AutoEvaluationRow).where(AutoEvaluationRow.call_id == call_id)
        )
        assert row is not None
        items = {i["code"]: i for i in row.items}
        metrics = row.metrics["values"]
    assert metrics["audio"] == 0 and metrics["agent_cpm"] is None
    assert metrics["agent_messages"] == 6  # four from the agent, two from the bot
    # 不抢话 reads the interruption rule, 语速 the speech rate: neither exists without audio
    assert "no_interrupting" not in items and "speech_rate" not in items  # left to people
    assert items["closing_phrase"]["judged"] and items["greeting_agent_id"]["judged"]
    assert not items["abuse_customer"]["violated"]  # the red line is the agent's abuse, not 骗子


def test_a_purged_chat_keeps_no_message_text(platform: Platform) -> None:
    call_id = _ingest_chat()["call_id"]
    _process()
    with platform.uow() as uow:
        until = uow.session.get(Call, call_id).retain_until  # type: ignore[union-attr]
    (item,) = purge(platform, now=until + timedelta(days=1))
    assert item.call_id == call_id and item.purged
    with platform.uow() as uow:
        assert uow.session.get(Call, call_id).status == "purged"  # type: ignore[union-attr]
        for model in (TranscriptSegment, CallFlag):
            left = select(func.count()).select_from(model).where(model.call_id == call_id)
            assert uow.session.scalar(left) == 0


def test_qa_ingest_chat_takes_any_file_name_and_exits_1_on_a_bad_line(
    platform: Platform, tmp_path: Path
) -> None:
    plain = tmp_path / "export.txt"
    plain.write_bytes(FIXTURE.read_bytes())
    result = CliRunner().invoke(ingest, [str(plain), "--chat", "--json"])
    assert result.exit_code == 0, result.output
    with platform.uow() as uow:
        call = uow.session.get(Call, json.loads(result.output)[0]["call_id"])
        assert call is not None and call.channel == "chat"
    bad = tmp_path / "bad.txt"
    bad.write_text('{"time": 0, "role": "agent", "text": "您好"}\n{"time": 1}\n', "utf-8")
    result = CliRunner().invoke(ingest, [str(bad), "--chat", "--json"])
    assert result.exit_code == 1
    (row,) = json.loads(result.output)
    assert row["status"] == "rejected" and row["error"].endswith("bad.txt:2: missing role, text")


def test_a_chat_counts_in_the_daily_report_with_its_flags(platform: Platform) -> None:
    _ingest_chat()  # its messages are dated 2026-11-20 (+08:00)
    _process()
    snap = compute_report(platform.uow(), "daily", date(2026, 11, 20))
    centre = snap["payload"]["centre"]
    assert centre["calls_received"] == 1
    assert {"complaint_risk", "abuse_customer"} <= set(centre["flagged_by_type"])
