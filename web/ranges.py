"""HTTP ``Range`` headers and audio content types for the player."""

from __future__ import annotations

import re

from qa_platform.domain.errors import Invalid

MAX_RANGE_BYTES = 4 * 1024 * 1024  # one response never holds more than this
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

MIME = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "webm": "audio/webm",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
}


class RangeNotSatisfiable(Invalid):
    """The Range header asks for bytes outside the file, or is malformed: HTTP 416."""


def mime_for(audio_format: str) -> str:
    """Content-Type from the call's ``audio_format`` (``container/codec``)."""
    container = (audio_format or "").split("/")[0].lower()
    return MIME.get(container, "application/octet-stream")


def parse_range(header: str | None, total: int) -> tuple[int, int] | None:
    """``[start, end)`` from a single-range ``Range`` header; None when absent."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        raise RangeNotSatisfiable(f"unsupported Range header {header!r}")
    first, last = m.group(1), m.group(2)
    if not first:  # suffix range: the last N bytes
        n = int(last)
        if n == 0:
            raise RangeNotSatisfiable("empty suffix range")
        start, end = max(0, total - n), total
    else:
        start = int(first)
        end = min(int(last) + 1, total) if last else total
    if start >= total or end <= start:
        raise RangeNotSatisfiable(f"range {header!r} is outside the {total} bytes of the file")
    return start, min(end, start + MAX_RANGE_BYTES)
