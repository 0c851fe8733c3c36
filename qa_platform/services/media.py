"""Audio for the browser: size and format, playback audit, waveform.

Byte ranges are read with ``qa_platform.services.recordings.read_range``, which decrypts only the
chunks that hold the asked bytes; HTTP Range parsing is the web layer's (``web/ranges.py``).

The waveform (波形) peaks are computed once, by the features stage at analysis time
(:func:`save_waveform`, from the decrypted file the stage already has), and stored per
recording blob. Calls analysed before that (or asked with another bucket count) are drawn by
decoding the plaintext block by block from the blob (a running max per bucket keeps memory
bounded whatever the duration), cached in process; that plaintext never touches disk.
"""

from __future__ import annotations

import io
import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.services.context import Platform
from qa_platform.services.recordings import (
    RecordingUnavailable,
    plaintext_size,
    read_range,
    recording_blob_id,
)
from storage.audit import append_audit
from storage.models import AuditEvent, AuditHead, Call
from storage.models_pipeline import CallWaveform

READ_BLOCK = 1024 * 1024  # plaintext bytes decrypted per read while decoding
PEAKS = 600
PLAYBACK_WINDOW = timedelta(minutes=30)  # one 放音 audit row per user × call in this window


@dataclass(frozen=True)
class AudioInfo:
    """What a player needs before it asks for bytes: plaintext size and container/codec."""

    size: int
    audio_format: str


def audio_info(platform: Platform, call_id: int) -> AudioInfo:
    """Plaintext size and format of the call's recording (``RecordingUnavailable`` if gone,
    or if the interaction is a chat, which has no audio)."""
    with platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        if call is not None and not call.has_audio:
            raise RecordingUnavailable(f"call {call_id} is a chat (网络对话): it has no audio")
        audio_format = call.audio_format if call else ""
    return AudioInfo(plaintext_size(platform, call_id), audio_format)


def audit_playback(platform: Platform, actor: str, call_id: int, kind: str = "play") -> bool:
    """One audit event per playback session (放音) or per download; True when one was written.

    A play is deduplicated in the database, per actor × call within ``PLAYBACK_WINDOW`` (not in
    the client's cookie, which can be dropped or replayed, nor per process): every Range request
    of a player, from byte 0 or not, is part of the session that the last row opened.
    """
    action, now = f"call.audio_{kind}", platform.clock.now()
    with platform.uow() as uow:
        s = uow.session
        if kind == "play":
            if _played_lately(s, actor, call_id, now):
                return False
            # Lock the chain head (a no-op write) so concurrent first plays queue, then re-check.
            s.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
            if _played_lately(s, actor, call_id, now):
                return False
        append_audit(s, actor=actor, action=action, object_type="call", object_id=call_id, at=now)
        uow.commit()
        return True


def _played_lately(s: Session, actor: str, call_id: int, now: datetime) -> bool:
    """Whether ``actor`` has a play row for the call within the window before ``now``."""
    since = now - PLAYBACK_WINDOW
    found = s.scalar(
        select(AuditEvent.id)
        .where(
            AuditEvent.object_type == "call",
            AuditEvent.object_id == str(call_id),
            AuditEvent.action == "call.audio_play",
            AuditEvent.actor == actor,
            AuditEvent.at > since,  # no upper bound: a row written meanwhile counts
        )
        .limit(1)
    )
    return found is not None


# Keyed by the recording's blob id, never the call id: ids restart in another database, and a
# purged recording must stop being drawn (the blob id is looked up, and checked, first).
_cache: OrderedDict[tuple[str, int], list[float]] = OrderedDict()
_lock = threading.Lock()


def save_waveform(
    session: Session, call_id: int, blob_id: str, peaks: list[float], buckets: int = PEAKS
) -> None:
    """Store the peaks the features stage computed (replacing an earlier computation)."""
    row = session.scalar(
        select(CallWaveform).where(CallWaveform.call_id == call_id, CallWaveform.buckets == buckets)
    )
    if row is None:
        row = CallWaveform(call_id=call_id, buckets=buckets)
        session.add(row)
    row.blob_id, row.peaks, row.created_at = blob_id, list(peaks), utc_now()


def stored_waveform(
    platform: Platform, call_id: int, blob_id: str, buckets: int = PEAKS
) -> list[float] | None:
    """The peaks stored at analysis time for this recording blob, if any."""
    with platform.uow() as uow:
        peaks = uow.session.scalar(
            select(CallWaveform.peaks).where(
                CallWaveform.call_id == call_id,
                CallWaveform.buckets == buckets,
                CallWaveform.blob_id == blob_id,
            )
        )
    return [float(p) for p in peaks] if peaks else None


def waveform(platform: Platform, call_id: int, buckets: int = PEAKS) -> list[float]:
    """Normalised peak per bucket (0..1); empty when the audio cannot be decoded."""
    blob_id = recording_blob_id(platform, call_id)  # also: RecordingUnavailable when purged
    stored = stored_waveform(platform, call_id, blob_id, buckets)
    if stored is not None:
        return stored
    key = (blob_id, buckets)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    size = plaintext_size(platform, call_id)
    with platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        container = (call.audio_format if call else "").split("/")[0] or None
    source = _PlaintextReader(lambda a, b: read_range(platform, call_id, a, b), size)
    peaks = stream_peaks(source, buckets, container)
    with _lock:
        _cache[key] = peaks
        while len(_cache) > 256:
            _cache.popitem(last=False)
    return peaks


class _PlaintextReader(io.RawIOBase):
    """A seekable read-only file over ``read(start, end)``: one block in memory at a time."""

    def __init__(self, read: Callable[[int, int], bytes], size: int) -> None:
        super().__init__()
        self._read, self._size, self._pos = read, size, 0
        self._block_start, self._block = 0, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        inside = self._block_start <= self._pos < self._block_start + len(self._block)
        if not inside:
            self._block_start = self._pos
            self._block = self._read(self._pos, min(self._size, self._pos + READ_BLOCK))
        offset = self._pos - self._block_start
        n = min(len(buffer), len(self._block) - offset)
        buffer[:n] = self._block[offset : offset + n]
        self._pos += n
        return n


class PeakAccumulator:
    """Running max-abs per block of samples, in bounded memory whatever the duration.

    Blocks start one sample long; whenever more than ``2 * buckets * resolution`` are held,
    neighbours are merged pairwise and the block length doubles. At the end the blocks are
    grouped into ``buckets`` peaks.
    """

    def __init__(self, buckets: int, resolution: int = 8) -> None:
        self.buckets, self.limit = buckets, 2 * buckets * resolution
        self.block = 1  # samples per finished block
        self.maxima = np.zeros(0, dtype=np.float32)
        self.partial, self.filled = 0.0, 0  # the block being filled

    def add(self, mono: np.ndarray) -> None:
        """Feed the next samples (max-abs over channels already taken)."""
        i = 0
        if self.filled:
            take = min(self.block - self.filled, mono.size)
            self.partial = max(self.partial, float(mono[:take].max(initial=0.0)))
            self.filled += take
            i = take
            if self.filled == self.block:
                self._finish(np.array([self.partial], dtype=np.float32))
        whole = (mono.size - i) // self.block * self.block
        if whole:
            self._finish(mono[i : i + whole].reshape(-1, self.block).max(axis=1))
        rest = mono[i + whole :]
        if rest.size:
            self.partial, self.filled = float(rest.max()), rest.size

    def _finish(self, blocks: np.ndarray) -> None:
        self.partial, self.filled = 0.0, 0
        self.maxima = np.concatenate([self.maxima, blocks.astype(np.float32)])
        while self.maxima.size > self.limit:
            self._coarsen()

    def _coarsen(self) -> None:
        m, odd = self.maxima, self.maxima.size % 2
        self.maxima = np.maximum(m[0 : m.size - odd : 2], m[1 : m.size - odd : 2])
        if odd:  # the last block becomes the first half of a partial double block
            self.partial, self.filled = float(m[-1]), self.block
        self.block *= 2

    def peaks(self) -> list[float]:
        """``buckets`` peaks normalised to the loudest (empty when nothing was fed)."""
        m = self.maxima
        if self.filled:
            m = np.concatenate([m, np.array([self.partial], dtype=np.float32)])
        if m.size == 0:
            return []
        edges = np.linspace(0, m.size, self.buckets + 1).astype(int)
        peaks = [float(m[a:b].max()) if b > a else 0.0 for a, b in itertools.pairwise(edges)]
        top = max(peaks) or 1.0
        return [round(p / top, 3) for p in peaks]


def stream_peaks(source: Any, buckets: int = PEAKS, container: str | None = None) -> list[float]:
    """Peaks of the audio in ``source`` (a path or binary file), decoded frame by frame.

    Only one decoded frame is held at a time, so memory does not grow with duration, channels
    or sample rate (a few KB of FLAC can decode to gigabytes).
    """
    import av

    acc = PeakAccumulator(buckets)
    options = {"protocol_whitelist": "file"}
    try:
        with av.open(source, format=container, options=options) as box:
            for frame in box.decode(audio=0):
                acc.add(_frame_max_abs(frame))
    except (av.error.FFmpegError, ValueError, OSError):
        return []
    return acc.peaks()


def _frame_max_abs(frame: Any) -> np.ndarray:
    """Per-sample max-abs over the channels of one decoded frame, as float32."""
    data = frame.to_ndarray()
    channels = max(1, len(frame.layout.channels))
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    return np.abs(data.astype(np.float32)).max(axis=0)
