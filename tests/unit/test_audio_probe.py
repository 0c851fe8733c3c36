"""Untrusted files are checked by magic bytes, forced format, decoded duration."""

from __future__ import annotations

from pathlib import Path

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
