"""Audio for the browser: byte ranges of the decrypted recording, playback audit, waveform.

Range requests decrypt only the chunks that hold the asked bytes
(``qa_platform.services.recordings.read_range``). The waveform (波形) peaks are computed once per
call from the decrypted audio in memory (PyAV decode, numpy max-abs per bucket) and cached in
process; plaintext never touches disk.
"""

from __future__ import annotations

import io
import itertools
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from qa_platform.domain.errors import QaError
from qa_platform.services.context import Platform
from qa_platform.services.recordings import plaintext_size, read_range
from storage.audit import append_audit
from storage.models import Call

MAX_RANGE_BYTES = 4 * 1024 * 1024  # one response never holds more than this
MAX_WAVEFORM_INPUT = 64 * 1024 * 1024
PEAKS = 600
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


class RangeNotSatisfiable(QaError):
    """The Range header asks for bytes outside the file, or is malformed."""


@dataclass(frozen=True)
class AudioSlice:
    start: int
    end: int  # exclusive
    total: int
    data: bytes
    partial: bool
    mime: str


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


def audio_slice(platform: Platform, call_id: int, range_header: str | None) -> AudioSlice:
    """The bytes a (range) request asks for, decrypted chunk by chunk."""
    total = plaintext_size(platform, call_id)
    with platform.uow() as uow:
        fmt = uow.session.get(Call, call_id).audio_format  # type: ignore[union-attr]
    span = parse_range(range_header, total)
    start, end = span if span else (0, min(total, MAX_RANGE_BYTES))
    partial = span is not None or end < total
    return AudioSlice(
        start, end, total, read_range(platform, call_id, start, end), partial, mime_for(fmt)
    )


def audit_playback(platform: Platform, actor: str, call_id: int, kind: str = "play") -> None:
    """One audit event per playback session (放音) or download."""
    with platform.uow() as uow:
        append_audit(
            uow.session,
            actor=actor,
            action=f"call.audio_{kind}",
            object_type="call",
            object_id=call_id,
            details={},
        )
        uow.commit()


_cache: OrderedDict[int, list[float]] = OrderedDict()
_lock = threading.Lock()


def waveform(platform: Platform, call_id: int, buckets: int = PEAKS) -> list[float]:
    """Normalised peak per bucket (0..1); empty when the audio cannot be decoded."""
    with _lock:
        if call_id in _cache:
            _cache.move_to_end(call_id)
            return _cache[call_id]
    size = plaintext_size(platform, call_id)
    peaks = (
        [] if size > MAX_WAVEFORM_INPUT else _peaks(read_range(platform, call_id, 0, size), buckets)
    )
    with _lock:
        _cache[call_id] = peaks
        while len(_cache) > 256:
            _cache.popitem(last=False)
    return peaks


def _peaks(data: bytes, buckets: int) -> list[float]:
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            frames = [f.to_ndarray().astype(np.float32) for f in container.decode(audio=0)]
    except (av.error.FFmpegError, ValueError):
        return []
    if not frames:
        return []
    mono = np.concatenate(
        [
            np.abs(f).max(axis=0) if f.ndim == 2 and f.shape[0] <= 8 else np.abs(f).ravel()
            for f in frames
        ]
    )
    if mono.size == 0:
        return []
    edges = np.linspace(0, mono.size, buckets + 1).astype(int)
    peaks = np.array([mono[a:b].max() if b > a else 0.0 for a, b in itertools.pairwise(edges)])
    top = float(peaks.max()) or 1.0
    return [round(float(p) / top, 3) for p in peaks]
