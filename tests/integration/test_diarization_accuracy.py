"""Diarization on the real 30 s telephone conversation shipped with pyannote.audio.

Measured (collar 0 / 0.25 s): stereo by channel ≈ 3.0 % / 0.0 %; built-in mono fallback
≈ 22.9 % / 16.8 %. Each test prints its figure.
"""

from __future__ import annotations

import pytest

from tests.helpers.audio import load_sample_mono, stereo_from_sample
from tests.helpers.der import der
from workers.diarization import ClusteringDiarizer, stereo_turns


def test_two_speakers_on_two_channels_der_at_most_5_percent() -> None:
    turns = stereo_turns(stereo_from_sample(), agent_channel=0)
    strict, usual = der(turns, collar=0.0), der(turns, collar=0.25)
    print(f"stereo DER: collar 0 → {strict:.3%}, collar 0.25 s → {usual:.3%}")
    assert usual <= 0.05
    assert strict <= 0.05
    assert {t.speaker for t in turns} == {"agent", "customer"}


def test_mono_fallback_der_is_measured_and_bounded() -> None:
    turns = ClusteringDiarizer().diarize(load_sample_mono())
    strict, usual = der(turns, collar=0.0), der(turns, collar=0.25)
    print(f"mono fallback DER: collar 0 → {strict:.3%}, collar 0.25 s → {usual:.3%}")
    assert usual <= 0.20
    assert strict <= 0.25
    assert len({t.speaker for t in turns}) == 2


@pytest.mark.parametrize("agent_channel", [0, 1])
def test_channel_map_names_the_sides(agent_channel: int) -> None:
    turns = stereo_turns(stereo_from_sample(), agent_channel=agent_channel)
    first = min(turns, key=lambda t: t.start)  # speaker90 (channel 0) opens the call
    assert first.speaker == ("agent" if agent_channel == 0 else "customer")
