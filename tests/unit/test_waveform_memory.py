"""Waveform peaks of a long many-channel recording are computed in bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import av
import numpy as np

from qa_platform.domain.calls import CallMetadata
from qa_platform.services import media
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file

MB = 1024 * 1024


def long_flac(path: Path, seconds: int, channels: int = 8, rate: int = 48000) -> Path:
    """Mostly silence (compresses to a few KB) with a beep each second, written frame by frame."""
    with av.open(str(path), "w", format="flac") as box:
        stream = box.add_stream("flac", rate=rate, layout="7.1" if channels == 8 else "mono")
        step = 4800
        for i in range(seconds * rate // step):
            data = np.zeros((1, step * channels), dtype=np.int16)
            if i % 10 == 0:
                data[0, ::7] = 8000
            frame = av.AudioFrame.from_ndarray(data, format="s16", layout=stream.layout.name)
            frame.sample_rate, frame.pts = rate, i * step
            for packet in stream.encode(frame):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return path


def test_waveform_of_a_long_eight_channel_call_stays_under_50_mb(
    platform: Platform, tmp_path: Path
) -> None:
    path = long_flac(tmp_path / "long.flac", seconds=120)
    assert path.stat().st_size < 2 * MB  # decoded: 120 s × 8 × 48 kHz × 4 B = 184 MB
    result = ingest_file(platform, path, CallMetadata())
    assert result.status == "created", result.error
    tracemalloc.start()
    try:
        peaks = media.waveform(platform, result.call_id)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(peaks) == media.PEAKS and max(peaks) == 1.0
    assert peak < 50 * MB, f"waveform used {peak / MB:.0f} MB"


def test_peaks_follow_the_loud_part_wherever_it_is() -> None:
    acc = media.PeakAccumulator(buckets=10, resolution=2)
    signal = np.zeros(100_003, dtype=np.float32)
    signal[70_000:80_000] = 0.5
    for start in range(0, signal.size, 4096):
        acc.add(signal[start : start + 4096])
    peaks = acc.peaks()
    assert len(peaks) == 10 and acc.maxima.size <= 40
    assert peaks[7] == 1.0 and peaks[0] == 0.0 and peaks[9] == 0.0
