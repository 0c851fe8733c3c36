"""Decode untrusted call recordings to 16 kHz float32, keeping the channel layout.

The container is chosen from the file's magic bytes against an allowlist and FFmpeg is opened
with that format FORCED, through a Python file object: no probing, no protocols (a playlist
renamed ``.wav`` is never followed). Duration and decoded size are capped, not only bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from qa_platform.audio_probe import sniff_container
from workers.errors import BadAudio

TARGET_RATE = 16_000
MAX_CHANNELS = 2
DEFAULT_MAX_DURATION_S = 4 * 3600.0


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """Decoded audio: ``samples`` is float32 in [-1, 1], shape ``(channels, n)`` at 16 kHz."""

    samples: np.ndarray
    sample_rate: int
    channels: int
    duration_s: float

    def mono(self) -> np.ndarray:
        """The channels averaged to one 1-D signal (for mono-only engines)."""
        return self.samples.mean(axis=0).astype(np.float32)


def sniff_format(head: bytes) -> str:
    """FFmpeg demuxer name for a file starting with ``head``; BadAudio if not allowlisted."""
    container = sniff_container(head)
    if container is None:
        shown = head[:12].hex(" ") if head else "empty file"
        raise BadAudio(
            f"unsupported or unrecognised audio container (first bytes: {shown}); "
            "allowed: WAV, FLAC, OGG/Opus, MP3"
        )
    return container


def decode(path: str | Path, *, max_duration_s: float = DEFAULT_MAX_DURATION_S) -> DecodedAudio:
    """Decode ``path`` to 16 kHz float32, one row per channel (mono or stereo).

    Raises :class:`~workers.errors.BadAudio` naming the problem for anything that is not a
    decodable, allowlisted audio file no longer than ``max_duration_s``.
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise BadAudio(f"cannot read audio file {path.name!r}: {exc.strerror}") from exc
    with handle:
        fmt = sniff_format(handle.read(16))
        handle.seek(0)
        samples = _decode_stream(handle, fmt, path.name, max_duration_s)
    channels, n = samples.shape
    if n == 0:
        raise BadAudio(f"{path.name!r} ({fmt}) contains no audio samples")
    return DecodedAudio(samples, TARGET_RATE, channels, n / TARGET_RATE)


def _decode_stream(handle: BinaryIO, fmt: str, name: str, max_duration_s: float) -> np.ndarray:
    try:
        container = av.open(handle, mode="r", format=fmt)
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise BadAudio(f"{name!r} is not a valid {fmt} file: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise BadAudio(f"{name!r} ({fmt}) has no audio stream")
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels or 0
        if not 1 <= channels <= MAX_CHANNELS:
            raise BadAudio(f"{name!r} has {channels} channels; only mono or stereo calls")
        try:
            return _resample_all(container, stream, channels, name, max_duration_s)
        except (av.FFmpegError, ValueError, EOFError) as exc:
            raise BadAudio(f"{name!r} ({fmt}) is corrupt or truncated: {exc}") from exc


def _resample_all(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    channels: int,
    name: str,
    max_duration_s: float,
) -> np.ndarray:
    layout = "mono" if channels == 1 else "stereo"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=TARGET_RATE)
    max_samples = int(max_duration_s * TARGET_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    for frame in container.decode(stream):
        frame.pts = None  # the resampler re-times; broken timestamps must not matter
        for out in resampler.resample(frame):
            total += _append(chunks, out)
        if total > max_samples:
            raise BadAudio(f"{name!r} is longer than the {max_duration_s:.0f} s limit")
    for out in resampler.resample(None):
        total += _append(chunks, out)
    if not chunks:
        return np.zeros((channels, 0), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(chunks, axis=1), dtype=np.float32)


def _append(chunks: list[np.ndarray], frame: av.AudioFrame) -> int:
    array = frame.to_ndarray()
    chunks.append(array)
    return int(array.shape[1])
