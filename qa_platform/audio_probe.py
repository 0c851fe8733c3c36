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
from typing import Any, cast

import av
import numpy as np

from qa_platform.domain.errors import Invalid

# container name for PyAV -> human name
_WAV_CODECS = {1: "pcm", 3: "float", 6: "alaw", 7: "mulaw", 0xFFFE: "extensible"}
_WAV_BITS = {1: {8, 16, 24, 32}, 3: {32, 64}, 6: {8}, 7: {8}, 0xFFFE: {8, 16, 24, 32, 64}}
_FLOAT_SAMPLES = {"flt", "fltp", "dbl", "dblp"}


@dataclass(frozen=True)
class DecodeLimits:
    """What a decoded file may hold: duration, channels, sample rate, samples × channels.

    Bytes on disk say little: 54 KB of FLAC decoded to 92 million samples (8 channels at 96 kHz).
    """

    max_duration_s: float
    max_channels: int | None = None
    max_sample_rate: int | None = None
    max_decoded_samples: int | None = None  # samples per channel × channels


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
        if chunk_id == b"fmt " and size >= 16 and pos + 24 <= len(data):
            tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", data[pos + 8 : pos + 24])
            fmt = (tag, rate, channels)
            _check_wav_layout(tag, channels, align, bits, name)
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


def _check_wav_layout(tag: int, channels: int, align: int, bits: int, name: str) -> None:
    """Bits per sample and block align must agree with the encoding and channel count."""
    if tag not in _WAV_CODECS:
        return  # reported with the encoding's name by the caller
    if bits not in _WAV_BITS[tag]:
        raise AudioRejected(
            f"{name}: WAV header declares {bits} bits per sample, not valid for "
            f"{_WAV_CODECS[tag]} ({sorted(_WAV_BITS[tag])})"
        )
    if channels > 0 and align != channels * bits // 8:
        raise AudioRejected(
            f"{name}: WAV header is inconsistent: block align {align} bytes, but {channels} "
            f"channels × {bits} bits make {channels * bits // 8}"
        )


def probe(
    path: Path,
    *,
    max_duration_s: float,
    min_duration_s: float = 0.0,
    max_bytes: int | None = None,
    display_name: str | None = None,
    max_channels: int | None = None,
    max_sample_rate: int | None = None,
    max_decoded_samples: int | None = None,
) -> AudioInfo:
    """Validate ``path`` and measure it by decoding; raise ``AudioRejected`` with the reason.

    Besides duration, the channel count, the sample rate and the decoded size (samples ×
    channels) are capped when limits are given, checked as soon as they are known.
    """
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
    limits = DecodeLimits(max_duration_s, max_channels, max_sample_rate, max_decoded_samples)
    info = _decode_measure(path, container, name, limits)
    if info.duration_s < min_duration_s:
        raise AudioRejected(
            f"{name}: only {info.duration_s:.2f} s of audio (minimum {min_duration_s} s)"
        )
    return info


def _decode_measure(path: Path, container: str, name: str, limits: DecodeLimits) -> AudioInfo:
    try:
        with av.open(str(path), format=container, options={"protocol_whitelist": "file"}) as box:
            streams = [s for s in box.streams if s.type == "audio"]
            if not streams:
                raise AudioRejected(f"{name}: the {container} file holds no audio stream")
            stream = cast("av.AudioStream", streams[0])
            rate = stream.codec_context.sample_rate or 0
            if rate <= 0:
                raise AudioRejected(f"{name}: sample rate is {rate}")
            channels = stream.codec_context.channels
            _check_layout(channels, rate, limits, name)
            samples = _count_samples(box, stream, rate, channels, limits, name)
            declared = _declared_seconds(stream, box)
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


def _check_layout(channels: int, rate: int, limits: DecodeLimits, name: str) -> None:
    if limits.max_channels is not None and channels > limits.max_channels:
        raise AudioRejected(
            f"{name}: {channels} channels, over the limit of {limits.max_channels} "
            "(QA_MAX_CHANNELS)"
        )
    if limits.max_sample_rate is not None and rate > limits.max_sample_rate:
        raise AudioRejected(
            f"{name}: sample rate {rate} Hz, over the limit of {limits.max_sample_rate} Hz "
            "(QA_MAX_SAMPLE_RATE)"
        )


def _count_samples(
    box: Any, stream: Any, rate: int, channels: int, limits: DecodeLimits, name: str
) -> int:
    limit = int(limits.max_duration_s * rate)
    decoded_cap = limits.max_decoded_samples
    samples = 0
    for frame in box.decode(stream):
        samples += frame.samples
        if samples > limit:
            raise AudioRejected(f"{name}: longer than the limit of {limits.max_duration_s:.0f} s")
        if decoded_cap is not None and samples * max(channels, 1) > decoded_cap:
            raise AudioRejected(
                f"{name}: decodes to more than {decoded_cap} samples (channels × sample rate × "
                "duration; QA_MAX_DECODED_SAMPLES)"
            )
        if frame.format.name in _FLOAT_SAMPLES and not np.isfinite(frame.to_ndarray()).all():
            raise AudioRejected(f"{name}: holds samples that are not finite numbers (NaN or inf)")
    return samples


def _declared_seconds(stream, box) -> float | None:
    """The duration the container itself states, when it states one exactly."""
    if box.format.name in {"flac", "wav"} and stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None
