"""The rules on a chat (no audio): audio rules do not run, text rules do, on the same catalogue."""

from __future__ import annotations

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Transcript
from qa_platform.flags import evaluate
from qa_platform.flags.catalogue import AUDIO_RULES, CATALOGUE


def _chat() -> Transcript:
    return Transcript(
        [
            Segment("customer", Role.CUSTOMER, 0.0, 0.0, "我要投诉你们"),
            Segment("agent", Role.AGENT, 3.0, 3.0, "嗯嗯"),
        ]
    )


def test_a_short_text_without_audio_gets_text_flags_and_no_audio_flags() -> None:
    types = {f.type for f in evaluate(_chat(), AudioFeatures(3.0), audio=False)}
    assert "complaint_risk" in types and "missing_greeting" in types
    assert not types & AUDIO_RULES


def test_the_same_text_as_a_call_gets_the_audio_rules_too() -> None:
    types = {f.type for f in evaluate(_chat(), AudioFeatures(3.0))}
    assert "ultra_short" in types


def test_every_audio_rule_is_in_the_catalogue() -> None:
    assert AUDIO_RULES <= set(CATALOGUE)
