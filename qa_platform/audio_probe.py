"""Check an untrusted audio file before it is accepted (RELIABILITY.md, "Decoding untrusted audio").

The container is recognised by its magic bytes against an allowlist, then opened with that
format forced and no protocol but the file itself, and decoded to count samples, so that
duration (not only bytes) is capped and truncated or corrupt files are caught here, never on a
GPU queue. Nothing decoded is kept.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import av

from qa_platform.domain.errors import Invalid

# container name for PyAV -> human name
_WAV_CODECS = {1: "pcm", 3: "float", 6: "alaw", 7: "mulaw", 0xFFFE: "extensible"}


class AudioRejected(Invalid):
    """The file is not acceptable audio; the message names the file and the problem."""


@dataclass(frozen=True)
class AudioInfo:
    format: str  # wav | mp3 | flac | ogg
    codec: str
    duration_s: float
    channels: int
    sample_rate: int


def sniff_container(head: bytes) -> str | None:
    """The allowed container that ``head`` (the first bytes of a file) starts, else None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        return "mp3"
    return None


def _wav_header(path: Path, data: bytes, name: str) -> tuple[int, int, int]:
    """(format tag, sample rate, declared data bytes) from a RIFF/WAVE header."""
    pos, fmt, declared = 12, None, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk_id == b"fmt " and size >= 16:
            tag, channels, rate = struct.unpack("<HHI", data[pos + 8 : pos + 16])
            fmt = (tag, rate, channels)
        elif chunk_id == b"data":
            declared = (size, pos + 8)
            break
        pos += 8 + size + (size & 1)
    if fmt is None:
        raise AudioRejected(f"{name}: WAV file has no format chunk")
    if declared is None:
        raise AudioRejected(f"{name}: WAV file has no audio data chunk")
    tag, rate, channels = fmt
    if tag not in _WAV_CODECS:
        raise AudioRejected(
            f"{name}: WAV encoding {tag:#x} is not supported (PCM, float, μ-law, A-law only)"
        )
    if rate <= 0:
        raise AudioRejected(f"{name}: WAV header declares a sample rate of {rate}")
    if channels <= 0:
        raise AudioRejected(f"{name}: WAV header declares {channels} channels")
    size, offset = declared
    actual = path.stat().st_size - offset
    if size not in (0, 0xFFFFFFFF) and actual < size:
        raise AudioRejected(
            f"{name}: truncated: the header declares {size} bytes of audio, the file holds {actual}"
        )
    return tag, rate, size


def probe(
    path: Path,
    *,
    max_duration_s: float,
    min_duration_s: float = 0.0,
    max_bytes: int | None = None,
    display_name: str | None = None,
) -> AudioInfo:
    """Validate ``path`` and measure it by decoding; raise ``AudioRejected`` with the reason."""
    name = display_name or path.name
    size = path.stat().st_size
    if size == 0:
        raise AudioRejected(f"{name}: file is empty")
    if max_bytes is not None and size > max_bytes:
        raise AudioRejected(f"{name}: file is {size} bytes, over the limit of {max_bytes}")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    container = sniff_container(head)
    if container is None:
        raise AudioRejected(f"{name}: not a supported audio file (WAV, MP3, FLAC, OGG/Opus)")
    if container == "wav":
        _wav_header(path, head, name)
    info = _decode_measure(path, container, name, max_duration_s)
    if info.duration_s < min_duration_s:
        raise AudioRejected(
            f"{name}: only {info.duration_s:.2f} s of audio (minimum {min_duration_s} s)"
        )
    return info


def _decode_measure(path: Path, container: str, name: str, max_duration_s: float) -> AudioInfo:
    try:
        with av.open(str(path), format=container, options={"protocol_whitelist": "file"}) as box:
            streams = [s for s in box.streams if s.type == "audio"]
            if not streams:
                raise AudioRejected(f"{name}: the {container} file holds no audio stream")
            stream = streams[0]
            rate = stream.codec_context.sample_rate or 0
            if rate <= 0:
                raise AudioRejected(f"{name}: sample rate is {rate}")
            samples = _count_samples(box, stream, rate, max_duration_s, name)
            declared = _declared_seconds(stream, box)
            channels = stream.codec_context.channels
            codec = stream.codec_context.name
    except AudioRejected:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise AudioRejected(f"{name}: cannot be decoded as {container}: {exc}") from None
    duration = samples / rate
    if samples == 0:
        raise AudioRejected(f"{name}: no audio could be decoded (truncated or corrupt)")
    if declared and duration < declared * 0.98 - 0.25:
        raise AudioRejected(
            f"{name}: truncated: {duration:.2f} s decoded of {declared:.2f} s declared"
        )
    return AudioInfo(container, codec, round(duration, 3), channels, rate)


def _count_samples(box, stream, rate: int, max_duration_s: float, name: str) -> int:  # type: ignore[no-untyped-def]
    limit = int(max_duration_s * rate)
    samples = 0
    for frame in box.decode(stream):
        samples += frame.samples
        if samples > limit:
            raise AudioRejected(f"{name}: longer than the limit of {max_duration_s:.0f} s")
    return samples


def _declared_seconds(stream, box) -> float | None:  # type: ignore[no-untyped-def]
    """The duration the container itself states, when it states one exactly."""
    if box.format.name in {"flac", "wav"} and stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None
