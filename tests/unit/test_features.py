"""Audio features on synthetic calls whose silences and overlaps have known lengths."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.audio import build, quiet, speechlike
from workers.audio import DecodedAudio
from workers.features import compute_features, voice_activity

pytestmark = pytest.mark.worker  # librosa / the speech engines: the worker extra

RATE = 16000


def as_audio(*channels: np.ndarray) -> DecodedAudio:
    samples = np.stack(channels)
    return DecodedAudio(samples, RATE, samples.shape[0], samples.shape[1] / RATE)


def test_inserted_silences_are_measured_within_a_tenth_of_a_second() -> None:
    gaps = [0.5, 1.0, 2.5]
    mono = build(
        [
            ("speech", 2.0),
            ("q", gaps[0]),
            ("speech", 1.5),
            ("q", gaps[1]),
            ("speech", 3.0),
            ("q", gaps[2]),
            ("speech", 1.0),
        ]
    )
    features = compute_features(as_audio(mono))
    assert [s.duration for s in features.silence_segments] == pytest.approx(gaps, abs=0.1)
    assert [s.start for s in features.silence_segments] == pytest.approx([2.0, 4.0, 8.0], abs=0.1)
    assert features.longest_silence_s == pytest.approx(2.5, abs=0.1)
    assert features.silence_ratio == pytest.approx(sum(gaps) / features.duration_s, abs=0.02)
    assert features.talk_time_s["unknown"] == pytest.approx(7.5, abs=0.2)


def test_pauses_shorter_than_0_3_s_are_not_silences() -> None:
    mono = build([("speech", 1.0), ("q", 0.2), ("speech", 1.0)])
    assert compute_features(as_audio(mono)).silence_segments == []


def test_silence_needs_both_channels_quiet_and_overlap_needs_both_talking() -> None:
    # agent: speech 0–3 s, quiet 3–6 s; customer: quiet 0–2 s, speech 2–4 s, quiet 4–6 s
    agent = build([("speech", 3.0), ("q", 3.0)])
    customer = build([("q", 2.0), ("speech", 2.0), ("q", 2.0)])
    f = compute_features(as_audio(agent, customer), agent_channel=0)
    assert [(s.start, s.end) for s in f.silence_segments] == [pytest.approx((4.0, 6.0), abs=0.1)]
    assert f.overlap_s == pytest.approx(1.0, abs=0.1)
    assert f.talk_time_s["agent"] == pytest.approx(3.0, abs=0.1)
    assert f.talk_time_s["customer"] == pytest.approx(2.0, abs=0.1)


def test_channel_map_decides_which_side_is_the_agent() -> None:
    long_talker, short_talker = (
        build([("speech", 4.0), ("q", 1.0)]),
        build([("q", 4.0), ("speech", 1.0)]),
    )
    f = compute_features(as_audio(long_talker, short_talker), agent_channel=1)
    assert f.talk_time_s["customer"] > f.talk_time_s["agent"]


def test_energy_is_the_speech_level_in_dbfs() -> None:
    # speechlike(level) has RMS level·sqrt(0.6² + 0.4²/2) = 0.663·level
    loud, soft = speechlike(3.0, level=0.1), speechlike(3.0, level=0.01)
    f = compute_features(as_audio(loud, soft), agent_channel=0)
    assert f.energy_db["agent"] == pytest.approx(20 * np.log10(0.0663), abs=0.5)
    assert f.energy_db["customer"] == pytest.approx(20 * np.log10(0.00663), abs=0.5)


def test_mono_talk_time_and_overlap_come_from_diarization_turns() -> None:
    mono = build([("speech", 6.0)])
    turns = [("s0", 0.0, 3.5), ("s1", 3.0, 6.0)]
    f = compute_features(
        as_audio(mono), turns=turns, speaker_roles={"s0": "agent", "s1": "customer"}
    )
    assert f.talk_time_s == pytest.approx({"agent": 3.5, "customer": 3.0}, abs=0.02)
    assert f.speaking_time_s == f.talk_time_s  # the turns hold their pauses already
    assert f.overlap_s == pytest.approx(0.5, abs=0.02)
    assert "mono" in f.energy_db


def test_all_quiet_call_is_one_long_silence() -> None:
    f = compute_features(as_audio(quiet(3.0)))
    assert f.silence_ratio == pytest.approx(1.0, abs=0.01)
    assert f.talk_time_s == {"unknown": 0.0}


def test_voice_activity_marks_speech_frames() -> None:
    act = voice_activity(build([("q", 1.0), ("speech", 1.0), ("q", 1.0)]))
    assert act.talk_time_s == pytest.approx(1.0, abs=0.1)
    assert [(s.start, s.end) for s in act.spans()] == [pytest.approx((1.0, 2.0), abs=0.06)]


def test_speaking_time_counts_the_pauses_between_phrases_not_the_waits() -> None:
    # speech 2 s, a 0.6 s phrase pause, speech 2 s, a 3 s wait, speech 1 s
    act = voice_activity(
        build([("speech", 2.0), ("q", 0.6), ("speech", 2.0), ("q", 3.0), ("speech", 1.0)])
    )
    assert act.talk_time_s == pytest.approx(5.0, abs=0.15)
    assert act.speaking_time_s() == pytest.approx(5.6, abs=0.15)
    assert act.speaking_time_s(max_pause_s=0.3) == pytest.approx(act.talk_time_s, abs=0.01)


def test_stereo_features_carry_each_sides_speaking_time() -> None:
    agent = build([("speech", 2.0), ("q", 0.6), ("speech", 2.0), ("q", 2.4)])
    customer = build([("q", 4.6), ("speech", 2.0), ("q", 0.4)])
    f = compute_features(as_audio(agent, customer), agent_channel=0)
    assert f.speaking_time_s["agent"] == pytest.approx(4.6, abs=0.15)
    assert f.speaking_time_s["customer"] == pytest.approx(2.0, abs=0.15)
    assert f.talk_time_s["agent"] == pytest.approx(4.0, abs=0.15)


def test_steady_hiss_is_not_talk_however_loud() -> None:
    hiss = (np.random.default_rng(5).standard_normal(3 * RATE) * 0.05).astype(np.float32)
    assert voice_activity(hiss).talk_time_s == 0.0
