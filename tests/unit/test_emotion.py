"""Customer emotion (客户情绪): the pure scoring, the voice z-scores and the flag rule.

Hand-computed values: combine = 0.75 · text + 0.25 · arousal; arousal = logistic(mean z / 2).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Transcript
from qa_platform.emotion import (
    Arousal,
    SegmentEmotion,
    arousal_score,
    combine,
    score_segments,
    snownlp_negativity,
    text_label,
    thirds,
)
from qa_platform.flags import RuleSetError, default_rule_set, evaluate, rule_set_from_dict
from qa_platform.flags.messages import render
from workers.emotion import customer_arousal, zscores


def test_combine_weights_text_three_quarters_and_voice_one_quarter() -> None:
    assert combine(0.8, 0.6) == pytest.approx(0.75)  # 0.6 + 0.15
    assert combine(0.2, 1.0) == pytest.approx(0.4)  # 0.15 + 0.25
    assert combine(0.4, None) == pytest.approx(0.4)  # no voice measured: the text alone
    assert combine(0.9, 0.9, weight=0.0) == pytest.approx(0.9)


def test_combine_refuses_a_weight_outside_zero_to_one_and_a_nan_text() -> None:
    with pytest.raises(ValueError, match="weight"):
        combine(0.5, 0.5, weight=1.5)
    with pytest.raises(ValueError):
        combine(math.nan, 0.5)


def test_arousal_is_the_logistic_of_the_mean_measured_z_over_two() -> None:
    assert arousal_score(Arousal(2.0, 2.0)) == pytest.approx(1 / (1 + math.exp(-1)))  # 0.7311
    assert arousal_score(Arousal(None, -2.0)) == pytest.approx(1 / (1 + math.exp(1)))  # 0.2689
    assert arousal_score(Arousal(1.0, -1.0)) == pytest.approx(0.5)
    assert arousal_score(Arousal(None, None)) is None
    assert arousal_score(Arousal(math.nan, None)) is None


def test_score_segments_combines_each_segment_with_its_own_voice() -> None:
    texts = {"甲": 0.8, "乙": 0.2}
    scores = score_segments(
        [(1, 0.0, 2.0, "甲"), (3, 2.5, 4.0, "乙")],
        [Arousal(2.0, 2.0), None],
        text_scorer=texts.__getitem__,
    )
    assert [s.idx for s in scores] == [1, 3]
    assert scores[0].arousal == pytest.approx(0.7311, abs=1e-4)
    assert scores[0].score == pytest.approx(0.75 * 0.8 + 0.25 * 0.7311, abs=1e-4)  # 0.7828
    assert (scores[1].arousal, scores[1].score) == (None, 0.2)


def test_score_segments_needs_one_voice_measure_per_segment() -> None:
    with pytest.raises(ValueError, match="2 segments but 1"):
        score_segments([(0, 0, 1, "a"), (1, 1, 2, "b")], [None], text_scorer=lambda _t: 0.5)


def test_text_labels_use_the_fixed_thresholds() -> None:
    assert [text_label(x) for x in (0.71, 0.7, 0.3, 0.29)] == [
        "negative",
        "neutral",
        "neutral",
        "positive",
    ]


def test_snownlp_reads_an_insult_as_negative_and_no_words_as_neutral() -> None:
    assert snownlp_negativity("你们这个垃圾公司，骗子。") > 0.9
    assert snownlp_negativity("  ") == 0.5


def test_thirds_are_the_first_and_last_third_at_least_one_each() -> None:
    assert thirds([0.2, 0.3, 0.4, 0.5, 0.8, 0.9]) == pytest.approx((0.25, 0.85))
    assert thirds([0.1, 0.9]) == pytest.approx((0.1, 0.9))
    with pytest.raises(ValueError):
        thirds([])


def test_zscores_against_the_speakers_own_mean_with_a_floor_on_the_spread() -> None:
    assert zscores([1.0, 3.0, None], floor=0.5) == [-1.0, 1.0, None]  # mean 2, sd 1
    assert zscores([1.0, 3.0], floor=2.0) == [-0.5, 0.5]  # sd 1 < floor 2
    assert zscores([4.0, None], floor=1.0) == [0.0, None]  # one value: no baseline


def _tone(hz: float, amplitude: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(16_000 * seconds)) / 16_000
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_a_louder_higher_segment_has_positive_pitch_and_energy_z() -> None:
    quiet = np.zeros(8000, dtype=np.float32)
    parts = [_tone(140, 0.05), quiet, _tone(150, 0.05), quiet, _tone(280, 0.4)]
    samples = np.concatenate(parts)
    spans = [(0.0, 1.0), (1.5, 2.5), (3.0, 4.0)]
    first, second, raised = customer_arousal(samples, spans)
    assert raised.pitch_z is not None and raised.pitch_z > 1.0
    assert raised.energy_z is not None and raised.energy_z > 1.0
    assert first.energy_z is not None and first.energy_z < 0 and second.pitch_z is not None


def test_a_silent_segment_has_no_voice_measure() -> None:
    samples = np.concatenate([_tone(150, 0.1), np.zeros(16_000, dtype=np.float32)])
    _, silent = customer_arousal(samples, [(0.0, 1.0), (1.0, 2.0)])
    assert silent == Arousal(None, None)


# ----------------------------------------------------------------------------- the flag rule
ENABLED = copy.deepcopy(default_rule_set().to_dict())
ENABLED["rules"]["customer_negative_end"]["enabled"] = True
RULES = rule_set_from_dict(ENABLED)


def _flags(scores: list[float]) -> list:
    segments = [
        Segment("c", Role.CUSTOMER, 10.0 * i, 10.0 * i + 5, "好") for i in range(len(scores))
    ]
    marks = [SegmentEmotion(i, 10.0 * i, 10.0 * i + 5, s, None, s) for i, s in enumerate(scores)]
    transcript = Transcript(segments, customer_emotion=marks)
    found = evaluate(transcript, AudioFeatures(duration_s=10.0 * len(scores)), RULES)
    return [f for f in found if f.type == "customer_negative_end"]


def test_the_customer_ending_more_negative_than_they_began_is_flagged() -> None:
    (flag,) = _flags([0.3, 0.3, 0.5, 0.5, 0.8, 0.9])  # first 0.30, last 0.85, rise 0.55
    assert (flag.role, flag.start, flag.end) == ("customer", 40.0, 55.0)
    assert flag.evidence == (
        "客户情绪结尾比开头更负面：前 2 段均值 0.30，后 2 段均值 0.85"
        "（上升 0.55，阈值 0.2；共 6 段客户发言）"
    )
    assert render(flag.evidence_key, flag.evidence_params, "en").startswith(
        "the customer ends more negative than they began: first 2 segments 0.30, last 2 0.85"
    )


def test_no_flag_below_the_rise_the_end_score_or_the_segment_count() -> None:
    assert _flags([0.5, 0.5, 0.69]) == []  # rise 0.19 < 0.2
    assert _flags([0.2, 0.4, 0.55]) == []  # rise 0.35 but the end 0.55 < 0.6
    assert _flags([0.1, 0.9]) == []  # two segments: not judged
    assert _flags([0.9, 0.5, 0.1]) == []  # ends better than it began
    assert len(_flags([0.4, 0.5, 0.6])) == 1  # rise exactly 0.2, end exactly 0.6


def test_the_packaged_rule_set_ships_it_disabled() -> None:
    params = default_rule_set().resolve("in")["customer_negative_end"]
    assert params.enabled is False
    transcript = Transcript(
        [Segment("c", Role.CUSTOMER, 0, 1, "好")] * 3,
        customer_emotion=[
            SegmentEmotion(i, i, i + 1, s, None, s) for i, s in enumerate([0, 0.5, 1])
        ],
    )
    assert [
        f for f in evaluate(transcript, AudioFeatures(3.0)) if f.type.startswith("customer_n")
    ] == []


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("min_segments", 2, r"customer_negative_end\.min_segments: must be ≥ 3"),
        ("min_rise", 1.5, r"customer_negative_end\.min_rise: is a ratio"),
        ("min_rise", 0, r"customer_negative_end\.min_rise: must be ≥ 0\.01"),
        ("min_end_score", -0.1, r"customer_negative_end\.min_end_score: must be ≥ 0"),
    ],
)
def test_thresholds_are_validated_with_the_key_named(key: str, value: float, message: str) -> None:
    data = copy.deepcopy(ENABLED)
    data["rules"]["customer_negative_end"][key] = value
    with pytest.raises(RuleSetError, match=message):
        rule_set_from_dict(data)


def test_a_rule_set_stored_before_the_rule_loads_with_it_disabled() -> None:
    data = copy.deepcopy(ENABLED)
    del data["rules"]["customer_negative_end"]
    assert rule_set_from_dict(data).resolve("in")["customer_negative_end"].enabled is False
