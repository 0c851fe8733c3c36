"""Words to speaker turns, stereo turns by channel, and the clustering fallback's shape."""

from __future__ import annotations

import numpy as np
import pytest

from qa_platform.domain.transcript import Role, Word
from tests.helpers.audio import build
from workers.diarization import (
    ClusteringDiarizer,
    Turn,
    assign_words_to_turns,
    make_mono_diarizer,
    speaker_at,
    stereo_turns,
)

pytestmark = pytest.mark.worker  # librosa / the speech engines: the worker extra


def test_word_goes_to_the_turn_it_overlaps_most() -> None:
    turns = [Turn("a", 0.0, 1.0), Turn("b", 0.9, 2.0)]
    assert speaker_at(turns, 0.85, 1.2) == "b"
    assert speaker_at(turns, 0.2, 0.95) == "a"
    assert speaker_at(turns, 5.0, 5.5) == "b"  # no overlap: the nearest turn


def test_segments_break_on_speaker_change_and_long_pause() -> None:
    turns = [Turn("agent", 0.0, 4.0), Turn("customer", 4.0, 9.0)]
    words = [
        Word("您好", 0.1, 0.5, 0.9),
        Word("，请讲", 0.5, 1.0, 0.7),
        Word("我想", 4.2, 4.6),
        Word("问", 4.6, 4.8),
        Word("保单", 6.5, 7.0),  # 1.7 s pause → new segment, same speaker
    ]
    segs = assign_words_to_turns(
        words, turns, roles={"agent": Role.AGENT, "customer": Role.CUSTOMER}
    )
    assert [(s.speaker, s.role, s.text) for s in segs] == [
        ("agent", Role.AGENT, "您好，请讲"),
        ("customer", Role.CUSTOMER, "我想问"),
        ("customer", Role.CUSTOMER, "保单"),
    ]
    assert (segs[0].start, segs[0].end) == (0.1, 1.0)
    assert segs[0].confidence == pytest.approx(0.8)
    assert len(segs[1].words) == 2


def test_unknown_speakers_get_the_unknown_role() -> None:
    segs = assign_words_to_turns([Word("hi", 0.0, 0.3)], [Turn("speaker_0", 0.0, 1.0)])
    assert segs[0].role == Role.UNKNOWN


def test_stereo_turns_follow_each_channel() -> None:
    left = build([("speech", 2.0), ("q", 2.0)])
    right = build([("q", 2.0), ("speech", 2.0)])
    turns = stereo_turns(np.stack([left, right]), agent_channel=1)
    assert [(t.speaker, round(t.start, 1), round(t.end, 1)) for t in turns] == [
        ("customer", 0.0, 2.0),
        ("agent", 2.0, 4.0),
    ]


def test_short_pauses_stay_inside_a_turn() -> None:
    left = build([("speech", 1.0), ("q", 0.4), ("speech", 1.0)])
    turns = stereo_turns(np.stack([left, np.zeros_like(left)]))
    assert len(turns) == 1 and turns[0].speaker == "agent"


def test_fallback_finds_two_different_voices() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(3 * 16000) / 16000
    low = (np.sin(2 * np.pi * 140 * t) + 0.5 * np.sin(2 * np.pi * 280 * t)) * (
        0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    )
    high = rng.standard_normal(t.size) * (0.6 + 0.4 * np.sin(2 * np.pi * 5 * t))
    voice_a, voice_b = (
        (0.1 * low).astype(np.float32),
        (0.05 * np.diff(high, prepend=0)).astype(np.float32),
    )
    mono = np.concatenate([voice_a, voice_b, voice_a, voice_b])
    turns = ClusteringDiarizer().diarize(mono)
    labels = [speaker_at(turns, s + 0.5, s + 2.5) for s in (0.0, 3.0, 6.0, 9.0)]
    assert labels[0] == labels[2] != labels[1] == labels[3]


def test_fallback_on_silence_gives_no_turns() -> None:
    assert ClusteringDiarizer().diarize(np.zeros(16000 * 3, np.float32)) == []


def test_mono_diarizer_choice() -> None:
    assert isinstance(make_mono_diarizer(""), ClusteringDiarizer)
    with pytest.raises(FileNotFoundError, match=r"config\.yaml"):
        make_mono_diarizer("/nonexistent/pyannote")
