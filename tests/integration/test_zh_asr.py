"""Mandarin telephone calls through the real transcribe stage, beside plain faster-whisper.

Four corpus calls (8 kHz μ-law stereo, agent left): a very short one, one with a long hold,
one that ends on the customer's side and a noisy one. Per channel the stored (masked) transcript of the
four calls must be as good as plain faster-whisper on the same channels (CER at most 0.05
worse together; benchmarks/zh_pipeline_cer.py measures both in one run) and no call's channel more than
0.1 worse (the hot-word prompt moves single characters either way per call), hold no word
where the channel's own voice activity says nobody speaks, and keep the call's last scripted
utterance (its CER under 0.5).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.asr import asr_settings, shared_transcriber

pytestmark = [pytest.mark.slow, pytest.mark.worker]

CALLS = (
    "zh-046-wrong-number",
    "zh-045-query-long-hold",
    "zh-015-revisit-no-greeting",
    "zh-048-beneficiary-noisy",
)
# The four calls together, per channel. The corpus goal is 0.01 (benchmarks/zh_pipeline_cer.py
# on nine calls: pipeline 0.188 / 0.112 against plain 0.205 / 0.138); on four calls the
# hot-word prompt's per-call swings of a few characters are not averaged out.
CER_MARGIN = 0.05
CALL_MARGIN = 0.1  # each call and channel
LAST_UTTERANCE_MAX_CER = 0.5
WORD_SLACK_S = 0.3  # workers.asr_guards.VOICE_PAD_S: Whisper's word timings are this loose


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    from tests.helpers.zh_corpus import load_corpus

    return {c.id: c for c in load_corpus(list(CALLS))}


@pytest.fixture(scope="module")
def measured(corpus: dict[str, Any]) -> dict[str, tuple[dict[str, Any], list[Any]]]:
    from benchmarks.zh_pipeline_cer import compare_call

    return {
        cid: compare_call(call, settings=asr_settings(), transcriber=shared_transcriber())
        for cid, call in corpus.items()
    }


def test_stored_transcript_is_as_good_as_plain_whisper(
    measured: dict[str, tuple[dict[str, Any], list[Any]]],
) -> None:
    for speaker in ("agent", "customer"):
        chans = [channels[speaker] for channels, _ in measured.values()]
        length = sum(c.length for c in chans)
        plain = sum(c.plain_edits for c in chans) / length
        pipeline = sum(c.pipeline_edits for c in chans) / length
        assert pipeline <= plain + CER_MARGIN, (
            f"{speaker}: pipeline {pipeline:.3f}, plain {plain:.3f}"
        )


@pytest.mark.parametrize("call_id", CALLS)
def test_no_channel_is_lost_or_looped(
    measured: dict[str, tuple[dict[str, Any], list[Any]]], call_id: str
) -> None:
    # Per call the hot-word prompt (which plain Whisper does not get) moves single characters
    # either way (签 → 牵, 宝单 → 保单); a lost channel, a loop or a dropped sentence is far more.
    channels, _ = measured[call_id]
    for speaker, c in channels.items():
        assert c.pipeline_cer <= c.plain_cer + CALL_MARGIN, (
            f"{call_id} {speaker}: pipeline CER {c.pipeline_cer:.3f} vs plain "
            f"{c.plain_cer:.3f}\n ref  {c.reference}\n pipe {c.pipeline}\n plain {c.plain}"
        )


@pytest.mark.parametrize("call_id", CALLS)
def test_no_text_where_the_channel_is_silent(
    corpus: dict[str, Any], measured: dict[str, tuple[dict[str, Any], list[Any]]], call_id: str
) -> None:
    from workers.audio import decode
    from workers.features import voice_activity

    audio = decode(corpus[call_id].stereo_8k)
    spans = {
        role: voice_activity(audio.samples[ch]).spans()
        for role, ch in (("agent", 0), ("customer", 1))
    }
    _, segments = measured[call_id]
    assert segments
    for seg in segments:
        for w in seg.words:
            voiced = spans[str(seg.role)]
            assert any(
                s.start - WORD_SLACK_S < w.end and w.start < s.end + WORD_SLACK_S for s in voiced
            ), f"{call_id}: {seg.role} word {w.text!r} at {w.start:.2f}–{w.end:.2f} s is on silence"


@pytest.mark.parametrize("call_id", CALLS)
def test_last_utterance_is_kept(
    corpus: dict[str, Any], measured: dict[str, tuple[dict[str, Any], list[Any]]], call_id: str
) -> None:
    from benchmarks.zh_pipeline_cer import comparable, edit_distance

    last = max(corpus[call_id].timeline, key=lambda t: t.end)
    _, segments = measured[call_id]
    said = "".join(
        w.text
        for seg in segments
        if str(seg.role) == last.speaker
        for w in seg.words
        if last.start - 0.5 <= (w.start + w.end) / 2 <= last.end + 0.5
    )
    ref, hyp = comparable(last.text), comparable(said, masked=True)
    cer = edit_distance(ref, hyp) / len(ref)
    assert cer < LAST_UTTERANCE_MAX_CER, (
        f"{call_id}: last {last.speaker} utterance {ref!r}, got {hyp!r}"
    )
