"""Mandarin calls through the whole platform (speech → ASR → roles → masking → rules) raise the
flags their labels ask for, and none that their labels forbid.

Seven corpus calls: five kinds of violation the seeds name (a beneficiary change done without any
identity check, a 回访 without 工号, no closing, complaints that name 12378 or 我要投诉 — the
latter lost to a loop of the hot-word prompt until suspect spans were decoded again without it —
a 保证收益 promise)
and a compliant sales call that must raise none of them. The whole corpus is measured per flag in
``benchmarks/zh_flags.py`` (BENCHMARKS.md); this keeps the end-to-end path working in CI.
"""

from __future__ import annotations

from typing import Any

import pytest

from qa_platform.domain.calls import CallMetadata, Direction
from qa_platform.queries.calls import show_call
from qa_platform.services import pipeline as ps
from qa_platform.services.ingest import ingest_file

pytestmark = [pytest.mark.slow, pytest.mark.worker]

CALLS = (
    "zh-003-beneficiary-no-check",
    "zh-016-revisit-no-agent-id",
    "zh-020-claim-materials-no-closing",
    "zh-026-claim-delay-12378",
    "zh-030-claim-delay-complaint",  # the hot-word prompt looped over 我要投诉 before the retry
    "zh-038-sales-compliant",
    "zh-041-sales-guaranteed",
)


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    from tests.helpers.zh_corpus import load_corpus

    return {c.id: c for c in load_corpus(list(CALLS))}


@pytest.mark.parametrize("call_id", CALLS)
def test_labelled_flags_are_raised_through_speech_and_asr(platform, corpus, call_id) -> None:
    call = corpus[call_id]
    assert platform.settings.asr_language == "zh"
    meta = CallMetadata(
        agent_channel=0,
        direction=Direction(call.direction),
        business_type=call.business_type,
        external_id=call.id,
    )
    result = ingest_file(platform, call.stereo_8k, meta)
    assert result.call_id is not None, result
    ps.enqueue_pending(platform)
    shown = show_call(platform, result.call_id)
    assert shown["status"] == "analysed", shown.get("error")
    roles = {seg["role"] for seg in shown["segments"]}
    assert {"agent", "customer"} <= roles
    raised = {f["type"] for f in shown["flags"]}
    assert set(call.flags) <= raised, f"missed {sorted(set(call.flags) - raised)}"
    assert not raised & set(call.not_flags), f"raised {sorted(raised & set(call.not_flags))}"
    for flag in shown["flags"]:  # evidence is Chinese by default
        if flag["type"] in call.flags:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in flag["evidence"]), flag
