"""A Mandarin chat (网络对话) ingested, analysed and assigned to an inspector, for page tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import scoring.services as svc
from qa_platform.domain.calls import CallMetadata
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.pipeline import enqueue_calls
from scoring.plan import PlanFilters, SamplingPlan

CHAT_FIXTURE = Path(__file__).parent.parent / "data" / "chat_claim_zh.jsonl"


def analysed_chat(platform: Platform, agent_code: str = "A001") -> int:
    """The fixture chat ingested for ``agent_code`` yesterday and run through the pipeline."""
    started = datetime.now(UTC) - timedelta(days=1)
    meta = CallMetadata(agent_code=agent_code, team="一组", started_at=started)
    result = ingest_file(platform, CHAT_FIXTURE, meta)
    assert result.call_id is not None, result.error
    enqueue_calls(platform, [result.call_id])  # eager: flags → autoqa → finish, in process
    return result.call_id


def chat_evaluation(platform: Platform, supervisor: int, inspector: int) -> tuple[int, int]:
    """A chat sampled alone (plan channels=[chat]) and assigned; (call id, evaluation id)."""
    call_id = analysed_chat(platform)
    svc.ensure_scorecard(platform.uow())
    plan = SamplingPlan(f"chats-{call_id}", size=1, filters=PlanFilters(channels=("chat",)))
    run = svc.run_sampling(platform.uow(), plan, seed=1, actor=supervisor)
    svc.assign_run(platform.uow(), run["run_id"], actor=supervisor, inspector_ids=[inspector])
    (ev,) = [e for e in svc.list_evaluations(platform.uow()) if e["call_id"] == call_id]
    return call_id, int(ev["evaluation_id"])
