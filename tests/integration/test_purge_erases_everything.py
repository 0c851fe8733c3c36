"""Retention purge (保存期限到期删除) leaves nothing of a shredded call's speech in any table.

Two calls say a marker phrase each: one past its retention date, one not. After the purge the
expired call's marker must be found in no column of no table (every table of the metadata, every
value read back as text), while the kept call's marker is still found where it was written, so
the search is known to look where the content lives.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from qa_platform.domain.calls import CallMetadata
from qa_platform.domain.transcript import (
    AudioFeatures,
    Flag,
    Role,
    Segment,
    Severity,
    Transcript,
    Word,
)
from qa_platform.services import flags as flag_service
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.retention import ERASED_TEXT, purge
from scoring import services as svc
from scoring.plan import PlanFilters, SamplingPlan
from scoring.services import autoqa
from storage.audit import verify_chain
from storage.models import AuditEvent, Call, Job, Recording
from storage.models_all import Base
from storage.models_pipeline import CallFeatures
from storage.models_scoring import EvaluationRow
from tests.factories import FULL, make_people
from tests.helpers.files import make_audio

NOW = datetime(2030, 6, 1, tzinfo=UTC)
SHREDDED_MARKER = "青龙白虎暗号甲"
KEPT_MARKER = "朱雀玄武暗号乙"


def _content_call(platform: Platform, tmp: Path, started: str, marker: str, seed: int) -> int:
    """An ingested call whose transcript, words, speakers, flags and job error carry ``marker``."""
    meta = CallMetadata.parse({"started_at": started, "agent": "1000"})
    call_id = ingest_file(platform, make_audio(tmp / f"c{seed}.wav", seed=seed), meta).call_id
    words = [Word(marker, 1.0, 2.0), Word("保单", 2.0, 2.5)]
    segment = Segment("S1", Role.CUSTOMER, 0.5, 3.0, f"我要投诉，{marker}", words)
    evidence = Flag(
        "complaint_risk",
        Severity.WARNING,
        Role.CUSTOMER,
        0.5,
        3.0,
        f"客户提到“{marker}”",
        "v1",
        "complaint_risk.term",
        {"term": "投诉", "text": marker},
    )
    abuse = Flag(
        "abuse_agent",
        Severity.CRITICAL,
        Role.AGENT,
        3.0,
        4.0,
        f"坐席说“{marker}”",
        "v1",
        "abuse_agent.term",
        {"term": "滚", "text": marker},
    )
    with platform.uow() as uow:
        pipeline_service.ensure_jobs(uow.session, call_id, "demo", datetime.now(UTC))
        pipeline_service.save_transcript(
            uow.session,
            call_id,
            transcript=Transcript([segment], "zh", "demo"),
            model="demo",
            model_version="demo-1",
            version="demo",
            speakers=[{"speaker": "S1", "role": "customer", "evidence": [marker]}],
        )
        pipeline_service.save_features(uow.session, call_id, "demo", AudioFeatures(3.0))
        pipeline_service.mark_analysed(uow.session, call_id)
        flag_service.replace_flags(uow.session, {call_id: [evidence, abuse]})
        uow.session.execute(
            update(Job).where(Job.call_id == call_id).values(error=f"ASR retry: {marker}")
        )
        uow.commit()
    autoqa.evaluate_call(platform, call_id)  # the machine's verdict quotes the flag evidence
    return call_id


def _comment_on_every_evaluation(platform: Platform, markers: dict[int, str]) -> None:
    """Sample the calls, assign them, pin a comment quoting each call's marker, submit and approve (the
    comment is then in the draft and in the approved version's comment rows)."""
    plan = SamplingPlan("all", size=len(markers), filters=PlanFilters())
    run = svc.run_sampling(platform.uow(), plan, seed=1)
    svc.assign_run(platform.uow(), run["run_id"], actor="sup1")
    for ev in svc.list_evaluations(platform.uow()):
        quote = f"客户原话：{markers[ev['call_id']]}"
        svc.add_comment(
            platform.uow(), ev["evaluation_id"], ev["inspector_id"], 1.0, quote, open_draft=True
        )
        svc.save_scores(platform.uow(), ev["evaluation_id"], ev["inspector_id"], FULL, submit=True)
        svc.approve_evaluation(platform.uow(), ev["evaluation_id"], "sup1")


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def tables_containing(platform: Platform, marker: str) -> set[str]:
    """Every table of the metadata with a row holding ``marker`` in any column."""
    found = set()
    with platform.uow() as uow:
        for table in Base.metadata.sorted_tables:
            for row in uow.session.execute(select(table)):
                if any(marker in _as_text(v) for v in row):
                    found.add(table.name)
    return found


def test_purge_leaves_no_transcript_words_or_evidence_in_any_table(
    platform: Platform, tmp_path: Path
) -> None:
    make_people(platform)
    old = _content_call(platform, tmp_path, "2026-01-05T02:00:00+00:00", SHREDDED_MARKER, 1)
    kept = _content_call(platform, tmp_path, "2028-01-05T02:00:00+00:00", KEPT_MARKER, 2)
    _comment_on_every_evaluation(platform, {old: SHREDDED_MARKER, kept: KEPT_MARKER})
    before = tables_containing(platform, SHREDDED_MARKER)
    assert {"transcript_segments", "call_flags", "call_speakers", "jobs"} <= before
    assert {"evaluations", "evaluation_comments", "auto_evaluations"} <= before

    (item,) = purge(platform, now=NOW)

    assert item.call_id == old and item.purged
    assert item.erased["transcript_segments"] == 1 and item.erased["call_flags"] == 2
    assert item.erased["auto_evaluations"] == 1
    assert tables_containing(platform, SHREDDED_MARKER) == set()
    assert {"transcript_segments", "call_flags", "call_speakers", "jobs"} <= tables_containing(
        platform, KEPT_MARKER
    )


def test_purge_keeps_the_tombstone_and_an_intact_audit_chain(
    platform: Platform, tmp_path: Path
) -> None:
    make_people(platform)
    old = _content_call(platform, tmp_path, "2026-01-05T02:00:00+00:00", SHREDDED_MARKER, 1)
    _comment_on_every_evaluation(platform, {old: SHREDDED_MARKER})
    purge(platform, now=NOW)
    with platform.uow() as uow:
        call = uow.session.get(Call, old)
        rec = uow.session.scalar(select(Recording).where(Recording.call_id == old))
        features = uow.session.scalar(
            select(func.count()).select_from(CallFeatures).where(CallFeatures.call_id == old)
        )
        (ev,) = svc.list_evaluations(platform.uow())
        audit = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "call.purge")
        ).all()
        chain = verify_chain(uow.session)
    assert call.status == "purged" and call.started_at.year == 2026 and call.agent_id is not None
    assert rec.wrapped_key is None and not platform.store.exists(rec.blob_id)
    assert features == 0
    assert ev["call_id"] == old  # the evaluation (scores, states) survives for the reports
    assert len(audit) == 1 and audit[0].details["erased"]["evaluations"] == 1
    assert chain.ok
    with platform.uow() as uow:
        assert ERASED_TEXT in json.dumps(
            uow.session.scalar(select(EvaluationRow.draft)), ensure_ascii=False
        )


def test_dry_run_erases_nothing(platform: Platform, tmp_path: Path) -> None:
    make_people(platform)
    _content_call(platform, tmp_path, "2026-01-05T02:00:00+00:00", SHREDDED_MARKER, 1)
    (item,) = purge(platform, now=NOW, dry_run=True)
    assert not item.purged and item.erased == {}
    assert "transcript_segments" in tables_containing(platform, SHREDDED_MARKER)


def test_a_complaint_case_loses_its_text_when_its_last_call_is_shredded(
    platform: Platform, tmp_path: Path
) -> None:
    from qa_platform.services import complaints

    make_people(platform)
    old = _content_call(platform, tmp_path, "2026-01-05T02:00:00+00:00", SHREDDED_MARKER, 1)
    case = complaints.open_case(platform, [old], "complaint", f"客户说：{SHREDDED_MARKER}", "sup1")
    complaints.close_case(platform, case.id, f"已回复{SHREDDED_MARKER}", "sup1")
    assert purge(platform, now=NOW) == []  # the complaint keeps the call for 5 years
    (item,) = purge(platform, now=datetime(2031, 6, 1, tzinfo=UTC))
    assert item.purged and item.erased["complaint_cases"] == 1
    assert tables_containing(platform, SHREDDED_MARKER) == set()
    shown = complaints.show_case(platform, case.id)
    assert shown.state == "closed" and shown.summary == shown.outcome == ERASED_TEXT


def test_a_coaching_note_is_erased_with_its_call(platform: Platform, tmp_path: Path) -> None:
    from qa_platform.services.auth import SessionUser
    from scoring.services import coaching
    from storage.models import User

    make_people(platform)
    _content_call(platform, tmp_path, "2026-01-05T02:00:00+00:00", SHREDDED_MARKER, 1)
    plan = SamplingPlan("all", size=1, filters=PlanFilters())
    svc.assign_run(
        platform.uow(), svc.run_sampling(platform.uow(), plan, seed=1)["run_id"], actor="sup1"
    )
    [ev] = svc.list_evaluations(platform.uow())
    red_line = dict(FULL, abuse_customer=True)
    svc.start_evaluation(platform.uow(), ev["evaluation_id"], ev["inspector_id"])
    svc.save_scores(platform.uow(), ev["evaluation_id"], ev["inspector_id"], red_line, submit=True)
    svc.approve_evaluation(platform.uow(), ev["evaluation_id"], "sup1")
    svc.publish_evaluation(platform.uow(), ev["evaluation_id"], "sup1")
    with platform.uow() as uow:
        lead = SessionUser.of(
            uow.session.scalars(select(User).where(User.username == "sup1")).one()
        )
    [task] = coaching.list_tasks(platform, lead)
    coaching.record_coaching(platform, lead, task.id, f"复听时客户说：{SHREDDED_MARKER}")
    assert "coaching_tasks" in tables_containing(platform, SHREDDED_MARKER)
    (item,) = purge(platform, now=datetime(2031, 6, 1, tzinfo=UTC))
    assert item.purged and item.erased["coaching_tasks"] == 1
    assert tables_containing(platform, SHREDDED_MARKER) == set()
    assert coaching.show_task(platform, lead, task.id).coaching_note == ERASED_TEXT
