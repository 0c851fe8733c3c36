"""Untrusted files are checked by magic bytes, forced format, decoded duration."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from qa_platform.audio_probe import AudioRejected, probe
from qa_platform.demo_audio import write_audio
from tests.helpers.files import make_audio, tone, wav_with_rate

LIMIT = 600.0


@pytest.mark.parametrize(
    ("name", "codec", "rate", "channels", "fmt"),
    [
        ("pcm.wav", "pcm_s16le", 8000, 1, "wav"),
        ("mulaw.wav", "pcm_mulaw", 8000, 2, "wav"),
        ("alaw.wav", "pcm_alaw", 8000, 1, "wav"),
        ("a.mp3", None, 16000, 1, "mp3"),
        ("a.flac", None, 16000, 2, "flac"),
        ("a.ogg", None, 16000, 1, "ogg"),
    ],
)
def test_telephone_formats_are_accepted(
    tmp_path: Path, name: str, codec: str | None, rate: int, channels: int, fmt: str
) -> None:
    path = write_audio(tmp_path / name, tone(3.0, rate, channels), rate, codec or "pcm_s16le")
    info = probe(path, max_duration_s=LIMIT)
    assert info.format == fmt
    assert info.channels == channels
    assert info.duration_s == pytest.approx(3.0, abs=0.1)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.wav").write_bytes(b"")
    with pytest.raises(AudioRejected, match=r"e\.wav: file is empty"):
        probe(tmp_path / "e.wav", max_duration_s=LIMIT)


def test_png_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "pic.wav"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    with pytest.raises(AudioRejected, match="not a supported audio file"):
        probe(path, max_duration_s=LIMIT)


def test_playlist_named_wav_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "list.wav"
    path.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n")
    with pytest.raises(AudioRejected, match="not a supported audio file"):
        probe(path, max_duration_s=LIMIT)


def test_zero_sample_rate(tmp_path: Path) -> None:
    with pytest.raises(AudioRejected, match="sample rate of 0"):
        probe(wav_with_rate(tmp_path / "z.wav", 0), max_duration_s=LIMIT)


def test_truncated_wav(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "t.wav", seconds=2.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioRejected, match="truncated"):
        probe(path, max_duration_s=LIMIT)


def test_truncated_flac(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "t.flac", tone(4.0), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioRejected, match=r"t.flac: (truncated|cannot be decoded)"):
        probe(path, max_duration_s=LIMIT)


def test_over_duration_limit(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "long.wav", seconds=5.0)
    with pytest.raises(AudioRejected, match="longer than the limit of 4 s"):
        probe(path, max_duration_s=4.0)


def test_over_size_limit(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "big.wav", seconds=1.0)
    with pytest.raises(AudioRejected, match="over the limit of 1000"):
        probe(path, max_duration_s=LIMIT, max_bytes=1000)


def test_garbage_after_valid_magic(tmp_path: Path) -> None:
    path = tmp_path / "junk.mp3"
    path.write_bytes(b"ID3" + bytes(range(256)) * 20)
    with pytest.raises(AudioRejected, match=r"junk\.mp3"):
        probe(path, max_duration_s=LIMIT)


def raw_wav(
    path: Path,
    *,
    tag: int = 1,
    channels: int = 1,
    rate: int = 8000,
    bits: int = 16,
    align: int | None = None,
    data: bytes = b"\x00\x00" * 8000,
) -> Path:
    """A WAV file with every header field chosen by the test."""
    align = channels * bits // 8 if align is None else align
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * max(align, 1), align, bits)
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


def test_float_wav_of_nan_samples_is_rejected(tmp_path: Path) -> None:
    nan = np.full(8000, np.nan, dtype=np.float32).tobytes()
    path = raw_wav(tmp_path / "nan.wav", tag=3, bits=32, data=nan)
    with pytest.raises(AudioRejected, match=r"nan\.wav: .*not finite"):
        probe(path, max_duration_s=LIMIT)


def test_float_wav_with_one_infinite_sample_is_rejected(tmp_path: Path) -> None:
    samples = np.zeros(8000, dtype=np.float32)
    samples[4000] = np.inf
    path = raw_wav(tmp_path / "inf.wav", tag=3, bits=32, data=samples.tobytes())
    with pytest.raises(AudioRejected, match="not finite"):
        probe(path, max_duration_s=LIMIT)


def test_block_align_disagreeing_with_channels_and_bits_is_rejected(tmp_path: Path) -> None:
    path = raw_wav(tmp_path / "align.wav", channels=2, bits=16, align=2)
    with pytest.raises(AudioRejected, match=r"block align 2 bytes.*2 channels × 16 bits make 4"):
        probe(path, max_duration_s=LIMIT)


def test_zero_bits_per_sample_is_rejected(tmp_path: Path) -> None:
    path = raw_wav(tmp_path / "zero.wav", bits=0, align=0)
    with pytest.raises(AudioRejected, match="0 bits per sample"):
        probe(path, max_duration_s=LIMIT)


def test_consistent_float_wav_is_accepted(tmp_path: Path) -> None:
    samples = (0.1 * np.sin(np.arange(8000) / 5)).astype(np.float32)
    info = probe(
        raw_wav(tmp_path / "f.wav", tag=3, bits=32, data=samples.tobytes()), max_duration_s=LIMIT
    )
    assert info.duration_s == pytest.approx(1.0)


def test_too_many_channels_is_rejected(tmp_path: Path) -> None:
    path = raw_wav(tmp_path / "many.wav", channels=3, data=b"\x00\x00" * 3 * 8000)
    with pytest.raises(AudioRejected, match="3 channels, over the limit of 2"):
        probe(path, max_duration_s=LIMIT, max_channels=2)


def test_sample_rate_over_the_limit_is_rejected(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "hi.flac", seconds=1.0, rate=96000)
    with pytest.raises(AudioRejected, match="96000 Hz, over the limit of 48000"):
        probe(path, max_duration_s=LIMIT, max_sample_rate=48000)


def test_decoded_size_over_the_limit_is_rejected(tmp_path: Path) -> None:
    path = make_audio(tmp_path / "big.flac", seconds=3.0, rate=16000, channels=2)
    with pytest.raises(AudioRejected, match=r"more than 60000 samples.*QA_MAX_DECODED_SAMPLES"):
        probe(path, max_duration_s=LIMIT, max_decoded_samples=60000)
    assert probe(path, max_duration_s=LIMIT, max_decoded_samples=96000).channels == 2
