"""Audio and non-audio files for foundation tests (real encoders via PyAV)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from qa_platform.demo_audio import write_audio


def tone(
    seconds: float = 2.0, rate: int = 16000, channels: int = 1, freq: float = 440.0, seed: int = 0
) -> np.ndarray:
    """A tone with a little noise (seeded, so two calls with different seeds differ)."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    wave = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(t.size)
    return np.tile(wave.astype(np.float32), (channels, 1))


def make_audio(
    path: Path,
    seconds: float = 2.0,
    rate: int = 16000,
    channels: int = 1,
    codec: str = "pcm_s16le",
    seed: int = 0,
) -> Path:
    return write_audio(path, tone(seconds, rate, channels, seed=seed), rate, codec)


def wav_with_rate(path: Path, rate: int, frames: int = 1600) -> Path:
    """A PCM WAV whose header declares ``rate`` (0 is the hostile case)."""
    data = b"\x00\x00" * frames
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path
