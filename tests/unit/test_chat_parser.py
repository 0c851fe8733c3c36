"""The chat transcript parser (网络对话): every bad line is named with its number and problem."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from qa_platform.domain.chat import (
    MAX_CHAT_BYTES,
    MAX_MESSAGE_CHARS,
    MAX_MESSAGES,
    ChatRejected,
    is_chat_file,
    parse_chat,
)
from qa_platform.services.ingest_chat import chat_segments

GOOD = '{"time": 0, "role": "agent", "text": "您好"}'


def _lines(*lines: str) -> bytes:
    return "\n".join(lines).encode("utf-8")


def _msg(**fields: object) -> str:
    return json.dumps({"time": 1, "role": "customer", "text": "你好"} | fields, ensure_ascii=False)


def test_seconds_become_offsets_and_roles_are_kept() -> None:
    chat = parse_chat(_lines(GOOD, "", _msg(time=2.5), _msg(role="bot", time=4)))
    assert [(m.offset_s, m.role) for m in chat.messages] == [
        (0.0, "agent"),
        (2.5, "customer"),
        (4.0, "bot"),
    ]
    assert chat.started_at is None and chat.duration_s == 4.0


def test_iso_times_are_offsets_from_the_first_message_which_is_the_start() -> None:
    chat = parse_chat(
        _lines(_msg(time="2026-11-20T09:30:00+08:00"), _msg(time="2026-11-20T09:31:30+08:00"))
    )
    assert [m.offset_s for m in chat.messages] == [0.0, 90.0]
    assert chat.started_at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "c.jsonl:2: not valid JSON"),
        ("[1, 2]", "c.jsonl:2: a message must be a JSON object"),
        ('{"time": 1, "role": "agent"}', "c.jsonl:2: missing text"),
        (_msg(channel="web"), "c.jsonl:2: unknown fields ['channel']"),
        (_msg(role="robot"), "c.jsonl:2: role 'robot' is not one of agent, customer, bot"),
        (_msg(text=""), "c.jsonl:2: text must be a non-empty string"),
        (_msg(text="   "), "c.jsonl:2: text must be a non-empty string"),
        (_msg(text=42), "c.jsonl:2: text must be a non-empty string"),
        (_msg(text="字" * (MAX_MESSAGE_CHARS + 1)), f"c.jsonl:2: text is over {MAX_MESSAGE_CHARS}"),
        (_msg(time=-1), "c.jsonl:2: time -1 is not within"),
        ('{"time": NaN, "role": "agent", "text": "x"}', "c.jsonl:2: time nan is not within"),
        ('{"time": Infinity, "role": "agent", "text": "x"}', "c.jsonl:2: time inf is not within"),
        (_msg(time=True), "c.jsonl:2: time must be seconds or an ISO-8601 date-time"),
        (_msg(time=None), "c.jsonl:2: time must be seconds or an ISO-8601 date-time"),
        (_msg(time="昨天"), "c.jsonl:2: time '昨天' is not ISO-8601"),
        (
            _msg(time="2026-11-20T09:30:00"),
            "c.jsonl:2: time '2026-11-20T09:30:00' has no time zone",
        ),
        (_msg(time="2026-11-20T09:30:00+08:00"), "c.jsonl:2: time mixes seconds and ISO-8601"),
    ],
)
def test_a_bad_line_is_rejected_with_its_number_and_problem(line: str, message: str) -> None:
    with pytest.raises(ChatRejected) as caught:
        parse_chat(_lines(GOOD, line), "c.jsonl")
    assert str(caught.value).startswith(message)


def test_time_going_back_is_rejected_at_the_line_that_goes_back() -> None:
    with pytest.raises(ChatRejected, match=r"^c\.jsonl:3: time goes back"):
        parse_chat(_lines(_msg(time=5), _msg(time=6), _msg(time=5.5)), "c.jsonl")


def test_equal_times_are_in_order() -> None:
    assert len(parse_chat(_lines(_msg(time=5), _msg(time=5))).messages) == 2


def test_a_file_over_the_byte_limit_is_rejected_before_parsing() -> None:
    with pytest.raises(ChatRejected, match=f"over the {MAX_CHAT_BYTES} byte limit"):
        parse_chat(b" " * (MAX_CHAT_BYTES + 1), "c.jsonl")


def test_more_messages_than_the_limit_are_rejected() -> None:
    data = _lines(*[_msg(time=0, text="好")] * (MAX_MESSAGES + 1))
    with pytest.raises(ChatRejected, match=f"more than {MAX_MESSAGES} messages"):
        parse_chat(data, "c.jsonl")


def test_an_empty_file_and_non_utf8_are_rejected() -> None:
    with pytest.raises(ChatRejected, match=r"c\.jsonl: no messages"):
        parse_chat(b"\n\n", "c.jsonl")
    with pytest.raises(ChatRejected, match=r"c\.jsonl: not UTF-8"):
        parse_chat("您好".encode("gbk"), "c.jsonl")


def test_segments_are_masked_and_the_bot_speaks_for_the_agent_side() -> None:
    chat = parse_chat(_lines(_msg(role="bot", text="请问手机号？"), _msg(text="13812345678")))
    bot, customer = chat_segments(chat)
    assert (bot.speaker, str(bot.role)) == ("bot", "agent")
    assert (customer.speaker, str(customer.role)) == ("customer", "customer")
    assert "13812345678" not in customer.text and "[手机号]" in customer.text


def test_jsonl_names_are_chat_files() -> None:
    assert is_chat_file("a/B.JSONL") and not is_chat_file("call.wav")
