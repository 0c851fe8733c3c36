"""Audio for the browser: size and format, playback audit, waveform.

Byte ranges are read with ``qa_platform.services.recordings.read_range``, which decrypts only the
chunks that hold the asked bytes; HTTP Range parsing is the web layer's (``web/ranges.py``). The waveform (波形) peaks are computed once per
call from the decrypted audio in memory (PyAV decode, numpy max-abs per bucket) and cached in
process; plaintext never touches disk.
"""

from __future__ import annotations

import io
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from qa_platform.services.context import Platform
from qa_platform.services.recordings import plaintext_size, read_range
from storage.audit import append_audit
from storage.models import Call

MAX_WAVEFORM_INPUT = 64 * 1024 * 1024
PEAKS = 600


@dataclass(frozen=True)
class AudioInfo:
    """What a player needs before it asks for bytes: plaintext size and container/codec."""

    size: int
    audio_format: str


def audio_info(platform: Platform, call_id: int) -> AudioInfo:
    """Plaintext size and format of the call's recording (``RecordingUnavailable`` if gone)."""
    size = plaintext_size(platform, call_id)
    with platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        return AudioInfo(size, call.audio_format if call else "")


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
