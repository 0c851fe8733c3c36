"""Test recordings built from the pyannote sample (through qa_platform.demo_audio) and tones."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qa_platform.demo_audio import read_mono, read_rttm, sample_files, split_by_speaker, write_audio

# file name → (codec for WAV, output sample rate); MP3/FLAC/OGG chosen by suffix
TELEPHONE_FORMATS: dict[str, tuple[str, int]] = {
    "pcm8k.wav": ("pcm_s16le", 8000),
    "mulaw.wav": ("pcm_mulaw", 8000),
    "alaw.wav": ("pcm_alaw", 8000),
    "call.mp3": ("pcm_s16le", 16000),
    "call.flac": ("pcm_s16le", 8000),
    "call.opus.ogg": ("pcm_s16le", 48000),
}


def sample_wav() -> Path:
    """The pyannote.audio sample: a 30 s two-speaker English telephone conversation."""
    return sample_files().wav


def reference_turns() -> list[tuple[str, float, float]]:
    """(speaker, start, end) rows of the sample's reference RTTM."""
    return [(t.speaker, t.start, t.end) for t in read_rttm(sample_files().rttm)]


def reference_text() -> str:
    """The sample's reference transcript (sample.stm), in time order."""
    lines = sample_files().stm.read_text().splitlines()
    return " ".join(" ".join(line.split()[5:]) for line in lines if line.strip())


def load_sample_mono() -> np.ndarray:
    """The sample as 1-D float32 at 16 kHz."""
    return read_mono(sample_wav())


def stereo_from_sample() -> np.ndarray:
    """Channel 0 gets speaker90's regions, channel 1 speaker91's (overlaps on both), zeros elsewhere."""
    return split_by_speaker(load_sample_mono(), read_rttm(sample_files().rttm))


def encode(samples: np.ndarray, rate: int, path: Path) -> Path:
    """Write ``samples`` (channels, n) at ``rate`` in the telephone format ``path.name`` names."""
    codec, out_rate = TELEPHONE_FORMATS[path.name]
    return write_audio(path, samples, rate, codec, out_rate=out_rate)


def write_wav(samples: np.ndarray, rate: int, path: Path) -> Path:
    """16-bit PCM WAV (samples shape (channels, n) or (n,))."""
    return write_audio(path, np.atleast_2d(samples), rate)


def tone(freqs: list[float], seconds: float, rate: int = 16000, amp: float = 0.3) -> np.ndarray:
    """A chord of sine tones (music-like test audio)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = sum(np.sin(2 * np.pi * f * t) for f in freqs)
    return (amp * wave / len(freqs)).astype(np.float32)


def plucked_melody(seconds_per_note: float = 0.4, repeats: int = 4) -> np.ndarray:
    """Decaying triads stepping up a scale: music with a rhythm, not a held tone."""
    t = np.arange(int(seconds_per_note * 16000)) / 16000
    notes = [220.0, 247.0, 262.0, 294.0, 330.0, 349.0, 392.0, 440.0] * repeats
    return np.concatenate(
        [
            tone([f, f * 1.25, f * 1.5], seconds_per_note) * np.exp(-4 * t).astype(np.float32)
            for f in notes
        ]
    )


_rng = np.random.default_rng(7)


def speechlike(seconds: float, level: float = 0.1) -> np.ndarray:
    """Noise with a 4 Hz syllable-like envelope that never drops to silence."""
    n = int(seconds * 16000)
    t = np.arange(n) / 16000
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    return (_rng.standard_normal(n) * level * envelope).astype(np.float32)


def quiet(seconds: float) -> np.ndarray:
    """Line noise around -70 dBFS."""
    return (_rng.standard_normal(int(seconds * 16000)) * 3e-4).astype(np.float32)


def build(layout: list[tuple[str, float]]) -> np.ndarray:
    """Concatenate ("speech", s) and ("q", s) stretches: silences of exactly known length."""
    return np.concatenate([speechlike(d) if kind == "speech" else quiet(d) for kind, d in layout])
