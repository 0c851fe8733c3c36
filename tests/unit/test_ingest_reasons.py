"""The reason codes of rejected uploads, from the messages the real checks produce."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from qa_platform.audio_probe import AudioRejected, probe
from qa_platform.domain.calls import CallMetadata, MetadataError
from qa_platform.services.ingest_reasons import rejection_reason
from tests.factories import tone_wav


def _message(path: Path, max_duration_s: float = 60.0, **limits: Any) -> str:
    with pytest.raises(AudioRejected) as caught:
        probe(path, max_duration_s=max_duration_s, **limits)
    return str(caught.value)


def test_the_probe_rejections_map_to_their_reasons(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_bytes(b"hello, this is text" * 20)
    tone = tone_wav(tmp_path / "tone.wav", 3.0, 440.0)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(tone.read_bytes()[:2000])
    assert rejection_reason(_message(empty)) == "empty"
    assert rejection_reason(_message(text)) == "format"
    assert rejection_reason(_message(tone, max_duration_s=1.0)) == "too_long"
    assert rejection_reason(_message(tone, min_duration_s=5.0)) == "too_short"
    assert rejection_reason(_message(tone, max_bytes=100)) == "too_large"
    assert rejection_reason(_message(tone, max_sample_rate=4000)) == "layout"
    assert rejection_reason(_message(cut)) == "corrupt"


def test_metadata_and_ingest_rejections_map_to_their_reasons() -> None:
    with pytest.raises(MetadataError) as caught:
        CallMetadata.parse({"direction": "sideways"})
    assert rejection_reason(f"m.csv:3: {caught.value}") == "metadata"
    assert rejection_reason("a.wav: external id 'X1' is already used by call 3") == "external_id"
    assert rejection_reason("a.wav: unknown agent 'A9' (strict mode)") == "unknown_people"
    assert rejection_reason("a.wav: no such file, or not a regular file") == "missing"


def test_an_unknown_message_is_other_never_a_wrong_reason() -> None:
    assert rejection_reason("something new went wrong") == "other"
    assert rejection_reason(None) == "other"
