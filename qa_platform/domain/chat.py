"""Chat transcripts (网络对话, 智能客服): one JSON message per line, validated before storing.

A line is ``{"time": ISO-8601 or seconds from the start, "role": "agent"|"customer"|"bot",
"text": "..."}``. Every line is checked; the first bad one rejects the whole file with a
message naming its line number, so nothing of a bad file is stored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from qa_platform.domain.errors import Invalid

CHANNEL_VOICE = "voice"
CHANNEL_CHAT = "chat"
CHANNELS = (CHANNEL_VOICE, CHANNEL_CHAT)
CHAT_SUFFIXES = (".jsonl",)

MAX_CHAT_BYTES = 2 * 1024 * 1024
MAX_MESSAGE_CHARS = 4000
MAX_MESSAGES = 5000
MAX_OFFSET_S = 7 * 24 * 3600.0  # a chat longer than a week is not one conversation
ROLES = ("agent", "customer", "bot")
FIELDS = {"time", "role", "text"}


class ChatRejected(Invalid):
    """The chat file is unacceptable; the message names the line and the problem."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message: seconds from the first message, who wrote it, and its (raw) text."""

    offset_s: float
    role: str
    text: str


@dataclass(frozen=True, slots=True)
class ChatTranscript:
    """A parsed chat: its messages and, when times were ISO-8601, when it started."""

    messages: tuple[ChatMessage, ...]
    started_at: datetime | None

    @property
    def duration_s(self) -> float:
        return self.messages[-1].offset_s if self.messages else 0.0


def is_chat_file(name: str) -> bool:
    """Whether a file name says it is a chat transcript (``.jsonl``)."""
    return name.lower().endswith(CHAT_SUFFIXES)


def parse_chat(data: bytes, name: str = "chat") -> ChatTranscript:
    """The messages of a JSON-lines chat; ``ChatRejected`` names the first bad line."""
    if len(data) > MAX_CHAT_BYTES:
        raise ChatRejected(f"{name}: {len(data)} bytes is over the {MAX_CHAT_BYTES} byte limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChatRejected(f"{name}: not UTF-8 text (byte {exc.start})") from None
    raw: list[tuple[int, float | datetime, str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(raw) >= MAX_MESSAGES:
            raise ChatRejected(f"{name}: more than {MAX_MESSAGES} messages")
        raw.append((number, *_parse_line(line, f"{name}:{number}")))
    if not raw:
        raise ChatRejected(f"{name}: no messages")
    return _with_offsets(raw, name)


def _parse_line(line: str, where: str) -> tuple[float | datetime, str, str]:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ChatRejected(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise ChatRejected(f"{where}: a message must be a JSON object")
    missing, unknown = FIELDS - obj.keys(), obj.keys() - FIELDS
    if missing:
        raise ChatRejected(f"{where}: missing {', '.join(sorted(missing))}")
    if unknown:
        raise ChatRejected(f"{where}: unknown fields {sorted(unknown)}")
    role, body = obj["role"], obj["text"]
    if role not in ROLES:
        raise ChatRejected(f"{where}: role {str(role)[:20]!r} is not one of {', '.join(ROLES)}")
    if not isinstance(body, str) or not body.strip():
        raise ChatRejected(f"{where}: text must be a non-empty string")
    if len(body) > MAX_MESSAGE_CHARS:
        raise ChatRejected(f"{where}: text is over {MAX_MESSAGE_CHARS} characters")
    return _parse_time(obj["time"], where), role, body.strip()


def _parse_time(value: object, where: str) -> float | datetime:
    if isinstance(value, bool):
        raise ChatRejected(f"{where}: time must be seconds or an ISO-8601 date-time")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_OFFSET_S:
            raise ChatRejected(f"{where}: time {value!r} is not within 0–{MAX_OFFSET_S:.0f} s")
        return seconds
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ChatRejected(f"{where}: time {value[:40]!r} is not ISO-8601") from None
        if moment.tzinfo is None:
            raise ChatRejected(f"{where}: time {value[:40]!r} has no time zone")
        return moment.astimezone(UTC)
    raise ChatRejected(f"{where}: time must be seconds or an ISO-8601 date-time")


def _with_offsets(raw: list[tuple[int, float | datetime, str, str]], name: str) -> ChatTranscript:
    first = raw[0][1]
    messages, previous = [], 0.0
    for number, when, role, body in raw:
        offset = _offset(when, first)
        if offset is None:
            raise ChatRejected(f"{name}:{number}: time mixes seconds and ISO-8601 date-times")
        if isinstance(first, datetime) and offset > MAX_OFFSET_S:
            raise ChatRejected(f"{name}:{number}: the chat runs longer than {MAX_OFFSET_S:.0f} s")
        if offset < previous:
            raise ChatRejected(f"{name}:{number}: time goes back (messages must be in order)")
        messages.append(ChatMessage(round(offset, 3), role, body))
        previous = offset
    started = first if isinstance(first, datetime) else None
    return ChatTranscript(tuple(messages), started)


def _offset(when: float | datetime, first: float | datetime) -> float | None:
    """Seconds from the start; None when the line and the first one use different kinds."""
    if isinstance(when, datetime) and isinstance(first, datetime):
        return (when - first).total_seconds()
    if not isinstance(when, datetime) and not isinstance(first, datetime):
        return float(when)
    return None
