"""Helpers for the pipeline tests: real demo recordings ingested through the service."""

from __future__ import annotations

from pathlib import Path

from qa_platform.demo_audio import (
    SAMPLE_RATE,
    read_mono,
    read_rttm,
    sample_files,
    split_by_speaker,
    write_audio,
)
from qa_platform.domain.calls import CallMetadata
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file


def demo_stereo_wav(directory: Path, seconds: float | None = None) -> Path:
    """The pyannote sample conversation with the two speakers on two channels (agent left)."""
    files = sample_files()
    stereo = split_by_speaker(read_mono(files.wav), read_rttm(files.rttm))
    if seconds is not None:
        stereo = stereo[:, : int(seconds * SAMPLE_RATE)]
    path = directory / ("call_stereo.wav" if seconds is None else f"call_stereo_{seconds:g}s.wav")
    write_audio(path, stereo, SAMPLE_RATE)
    return path


def ingest(platform: Platform, path: Path, agent_channel: int = 0) -> int:
    """Ingest ``path`` through the real service; returns the new call id."""
    result = ingest_file(platform, path, CallMetadata(agent_channel=agent_channel))
    assert result.status == "created", result
    assert result.call_id is not None
    return result.call_id
