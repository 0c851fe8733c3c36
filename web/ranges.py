"""HTTP ``Range`` headers and audio content types for the player."""

from __future__ import annotations

import re

from qa_platform.domain.errors import Invalid

MAX_RANGE_BYTES = 4 * 1024 * 1024  # one response never holds more than this
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_MAX_DIGITS = 19  # 2**63 has 19 digits; longer numbers are refused before int() sees them

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
    """The Range header asks for bytes outside the file, or is malformed: HTTP 416.

    ``total`` is the file's size, sent back as ``Content-Range: bytes */total``.
    """

    def __init__(self, message: str, total: int | None = None) -> None:
        super().__init__(message)
        self.total = total


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
        raise RangeNotSatisfiable(f"unsupported Range header {header[:40]!r}", total)
    first, last = m.group(1), m.group(2)
    if len(first) > _MAX_DIGITS or len(last) > _MAX_DIGITS or int(first or 0) >= 2**63:
        raise RangeNotSatisfiable("Range header numbers are out of range", total)
    if not first:  # suffix range: the last N bytes
        n = int(last)
        if n == 0:
            raise RangeNotSatisfiable("empty suffix range", total)
        start, end = max(0, total - n), total
    else:
        start = int(first)
        end = min(int(last) + 1, total) if last else total
    if start >= total or end <= start:
        raise RangeNotSatisfiable(
            f"range {header!r} is outside the {total} bytes of the file", total
        )
    return start, min(end, start + MAX_RANGE_BYTES)
