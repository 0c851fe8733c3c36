"""Decoding call recordings to 16 kHz float32 with the channel layout kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa_platform.demo_audio import write_audio
from tests.helpers.audio import TELEPHONE_FORMATS, encode, tone
from workers.audio import DecodedAudio, decode
from workers.errors import BadAudio


def _stereo_tones(seconds: float = 2.0, rate: int = 16000) -> np.ndarray:
    return np.stack([tone([440.0], seconds, rate), tone([1000.0], seconds, rate)])


def _dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(samples.size, 1 / 16000)[spectrum.argmax()])


@pytest.mark.parametrize("name", sorted(TELEPHONE_FORMATS))
def test_telephone_formats_decode_to_16k_keeping_channels(tmp_path: Path, name: str) -> None:
    path = encode(_stereo_tones(), 16000, tmp_path / name)
    audio = decode(path)
    assert isinstance(audio, DecodedAudio)
    assert audio.sample_rate == 16000
    assert audio.samples.dtype == np.float32
    assert audio.samples.shape[0] == audio.channels == 2
    assert audio.duration_s == pytest.approx(2.0, abs=0.08)
    # the left channel keeps its 440 Hz tone and the right its 1 kHz tone
    assert _dominant_hz(audio.samples[0]) == pytest.approx(440, abs=5)
    assert _dominant_hz(audio.samples[1]) == pytest.approx(1000, abs=5)


def test_8k_mono_is_resampled_to_16k(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "m.wav", tone([300.0], 3.0, 8000)[None, :], 8000, "pcm_mulaw")
    audio = decode(path)
    assert audio.channels == 1
    assert audio.samples.shape == (1, 48000)
    assert _dominant_hz(audio.samples[0]) == pytest.approx(300, abs=5)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "unsupported"),
        (b"#EXTM3U\n#EXTINF:10,\nfile:///etc/passwd\n", "unsupported"),
        (b"RIFF\x24\x00\x00\x00WAVEjunkjunkjunk" + b"\x01" * 64, "wav"),
        (b"fLaC" + bytes(range(256)) * 4, "flac"),
        (b"OggS" + b"\x00" * 400, "ogg"),
    ],
)
def test_undecodable_input_is_bad_audio_naming_the_problem(
    tmp_path: Path, content: bytes, match: str
) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(content)
    with pytest.raises(BadAudio, match=match):
        decode(path)


def test_missing_file_is_bad_audio(tmp_path: Path) -> None:
    with pytest.raises(BadAudio, match="cannot read"):
        decode(tmp_path / "nope.wav")


def test_too_long_audio_is_rejected(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "long.wav", tone([440.0], 5.0)[None, :], 16000)
    with pytest.raises(BadAudio, match="longer than the 2 s limit"):
        decode(path, max_duration_s=2.0)


def test_three_channels_are_rejected(tmp_path: Path) -> None:
    import av

    path = tmp_path / "three.wav"
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=16000, layout="2.1")
        frame = av.AudioFrame.from_ndarray(
            np.zeros((3, 1600), dtype=np.int16), format="s16p", layout="2.1"
        )
        frame.sample_rate = 16000
        for packet in list(stream.encode(frame)) + list(stream.encode(None)):
            out.mux(packet)
    with pytest.raises(BadAudio, match="3 channels"):
        decode(path)


def test_bad_audio_is_a_user_error() -> None:
    from qa_platform.domain.errors import QaError

    assert issubclass(BadAudio, QaError)
