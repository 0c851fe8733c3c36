"""Demo recordings built at set-up from the real telephone conversation in pyannote.audio.

The pyannote.audio wheel (worker extra) ships a 30 s two-speaker telephone sample with a
reference RTTM. We lay its two speakers on separate channels (agent left, customer right) to
make a stereo call as a call-centre switch records it, and derive a mono and an 8 kHz μ-law
variant, plus one with a long hold silence inserted. Nothing here is committed: it is
generated into a folder on demand.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import cast

import av
import numpy as np

from qa_platform.domain.errors import QaError

AGENT_SPEAKER = "speaker90"  # opens the call; laid on channel 0 (left)
SAMPLE_RATE = 16000


class DemoUnavailable(QaError):
    """pyannote.audio (worker extra) is not installed, so its sample is not on disk."""


@dataclass(frozen=True)
class SampleFiles:
    wav: Path
    rttm: Path
    stm: Path


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: float
    end: float


def sample_files() -> SampleFiles:
    """Where the pyannote.audio sample (audio, RTTM, STM) lies."""
    try:
        base = resources.files("pyannote.audio") / "sample"
    except ModuleNotFoundError:
        raise DemoUnavailable("pyannote.audio is not installed: pip install '.[worker]'") from None
    root = Path(str(base))
    files = SampleFiles(root / "sample.wav", root / "sample.rttm", root / "sample.stm")
    if not files.wav.exists():
        raise DemoUnavailable(f"pyannote.audio sample not found at {root}")
    return files


def read_rttm(path: Path) -> list[Turn]:
    turns = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            turns.append(Turn(parts[7], start, start + dur))
    return turns


def read_mono(path: Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode any audio file to mono float32 at ``rate``."""
    with av.open(str(path)) as box:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        frames = [
            f.to_ndarray().reshape(-1)
            for frame in box.decode(audio=0)
            for f in resampler.resample(frame)
        ]
        frames += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(frames).astype(np.float32)


def split_by_speaker(
    mono: np.ndarray, turns: list[Turn], agent: str = AGENT_SPEAKER, rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Two channels: the agent's turns on 0, everyone else's on 1, silence elsewhere."""
    stereo = np.zeros((2, mono.size), dtype=np.float32)
    for turn in turns:
        a, b = int(turn.start * rate), min(int(turn.end * rate), mono.size)
        channel = 0 if turn.speaker == agent else 1
        stereo[channel, a:b] = mono[a:b]
    return stereo


def insert_silence(
    audio: np.ndarray, at_s: float, seconds: float, rate: int = SAMPLE_RATE
) -> np.ndarray:
    cut = int(at_s * rate)
    gap = np.zeros((audio.shape[0], int(seconds * rate)), dtype=audio.dtype)
    return np.concatenate([audio[:, :cut], gap, audio[:, cut:]], axis=1)


def write_audio(
    path: Path, audio: np.ndarray, rate: int, codec: str = "pcm_s16le", out_rate: int | None = None
) -> Path:
    """Write (channels, n) float audio as WAV with ``codec`` (pcm_s16le, pcm_mulaw, pcm_alaw),
    or as MP3/FLAC/OGG when the suffix says so."""
    audio = np.atleast_2d(audio)
    layout = "mono" if audio.shape[0] == 1 else "stereo"
    container = {".mp3": "mp3", ".flac": "flac", ".ogg": "ogg"}.get(path.suffix, "wav")
    codec = {"mp3": "libmp3lame", "flac": "flac", "ogg": "libopus"}.get(container, codec)
    target = out_rate or rate
    if codec == "libopus":
        target = 48000 if target not in (8000, 12000, 16000, 24000, 48000) else target
    with av.open(str(path), "w", format=container) as box:
        stream = cast("av.AudioStream", box.add_stream(codec, rate=target, layout=layout))
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=target)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(audio.T.reshape(1, -1)), format="flt", layout=layout
        )
        frame.sample_rate = rate
        for out in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(out):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return path


DEMO_CALLS = [
    # file, agent, team, direction, business_type, started_at, external_id, phone, channel
    (
        "call_stereo.wav",
        "A1001",
        "一组",
        "in",
        "理赔咨询",
        "2026-11-23T09:15:00+08:00",
        "DEMO-0001",
        "13812345678",
        "0",
    ),
    (
        "call_mono.wav",
        "A1002",
        "一组",
        "in",
        "保单查询",
        "2026-11-23T10:02:00+08:00",
        "DEMO-0002",
        "13987654321",
        "",
    ),
    (
        "call_8k_mulaw.wav",
        "A2001",
        "二组",
        "out",
        "续期缴费",
        "2026-11-23T14:30:00+08:00",
        "DEMO-0003",
        "13700001111",
        "0",
    ),
    (
        "call_hold_silence.wav",
        "A2002",
        "二组",
        "in",
        "退保",
        "2026-11-24T11:45:00+08:00",
        "DEMO-0004",
        "13600002222",
        "0",
    ),
]


def build_demo_calls(out_dir: Path) -> Path:
    """Write the demo recordings and a manifest CSV into ``out_dir``; returns the manifest."""
    files = sample_files()
    out_dir.mkdir(parents=True, exist_ok=True)
    mono = read_mono(files.wav)
    stereo = split_by_speaker(mono, read_rttm(files.rttm))
    write_audio(out_dir / "call_stereo.wav", stereo, SAMPLE_RATE)
    write_audio(out_dir / "call_mono.wav", mono[None, :], SAMPLE_RATE)
    write_audio(out_dir / "call_8k_mulaw.wav", stereo, SAMPLE_RATE, "pcm_mulaw", out_rate=8000)
    write_audio(out_dir / "call_hold_silence.wav", insert_silence(stereo, 12.5, 40.0), SAMPLE_RATE)
    manifest = out_dir / "manifest.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "file",
                "agent",
                "team",
                "direction",
                "business_type",
                "started_at",
                "external_id",
                "customer_phone",
                "agent_channel",
            ]
        )
        writer.writerows(DEMO_CALLS)
    return manifest
