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


def _handoff(agent_line: str) -> Transcript:
    return Transcript(
        [
            Segment("bot", Role.AGENT, 0.0, 0.0, "您好，欢迎咨询，我是智能客服小安"),
            Segment("customer", Role.CUSTOMER, 18.0, 18.0, "转人工"),
            Segment("bot", Role.AGENT, 23.0, 23.0, "正在为您转接人工客服，请稍候"),
            Segment("agent", Role.AGENT, 60.0, 60.0, agent_line),
            Segment("agent", Role.AGENT, 90.0, 90.0, "感谢您的咨询，祝您生活愉快，再见"),
        ]
    )


def test_after_a_bot_hands_over_the_person_who_joins_greets_and_gives_the_agent_id() -> None:
    joined = {
        f.type
        for f in evaluate(
            _handoff("您好，我是在线客服3821号，很高兴为您服务"), AudioFeatures(90.0), audio=False
        )
    }
    assert not joined & {"missing_greeting", "missing_agent_id"}
    silent = {
        f.type for f in evaluate(_handoff("请问您的保单号是多少"), AudioFeatures(90.0), audio=False)
    }
    assert {"missing_greeting", "missing_agent_id"} <= silent  # the bot's greeting is not theirs
