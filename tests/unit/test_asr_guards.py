"""ASR guards: no transcription of silence or music; loops and hallucinations are marked."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.audio import load_sample_mono, plucked_melody, speechlike, tone
from workers.asr_guards import (
    collapse_loop,
    drop_non_speech,
    drop_outside_voice,
    guard_segments,
    has_speech_energy,
    mark_unreliable,
    repeated_ngram,
)
from workers.asr_types import AsrSegment, AsrWord

pytestmark = pytest.mark.worker  # librosa / the speech engines: the worker extra


def _seg(text: str, **kw: float) -> AsrSegment:
    return AsrSegment(start=0.0, end=2.0, text=text, **kw)


def test_real_speech_has_speech_energy() -> None:
    assert has_speech_energy(load_sample_mono())


@pytest.mark.parametrize(
    "audio",
    [
        np.zeros(5 * 16000, np.float32),
        (np.random.default_rng(0).standard_normal(5 * 16000) * 1e-4).astype(np.float32),
        tone([261.6, 329.6, 392.0], 5.0),
        tone([220.0], 5.0, amp=0.8),
        (np.random.default_rng(1).standard_normal(5 * 16000) * 0.1).astype(np.float32),
    ],
    ids=["digital-silence", "line-noise", "chord", "held-tone", "steady-hiss"],
)
def test_silence_and_steady_sound_have_no_speech_energy(audio: np.ndarray) -> None:
    assert not has_speech_energy(audio)


@pytest.mark.parametrize("snr_db", [20.0, 10.0, 5.0])
def test_speech_in_noise_still_goes_to_asr(snr_db: float) -> None:
    speech = load_sample_mono()
    rms = float(np.sqrt(np.mean(speech[speech != 0] ** 2)))
    noise = np.random.default_rng(0).standard_normal(speech.size) * rms / 10 ** (snr_db / 20)
    assert has_speech_energy((speech + noise).astype(np.float32))


def test_rhythmic_music_is_left_to_whisper_vad() -> None:
    # Cheap energy checks cannot tell plucked notes from syllables without risking real speech;
    # tests/integration/test_speech_accuracy.py shows the transcript still comes back empty.
    assert has_speech_energy(plucked_melody())


def test_whisper_no_speech_segments_are_dropped() -> None:
    kept = drop_non_speech(
        [
            _seg("谢谢观看", no_speech_prob=0.9, avg_logprob=-1.3),
            _seg("您好", no_speech_prob=0.9, avg_logprob=-0.2),  # confident: kept
            _seg("   "),
        ]
    )
    assert [s.text for s in kept] == ["您好"]


@pytest.mark.parametrize(
    ("text", "gram"),
    [
        ("好的好的好的好的好的", "好的"),
        ("谢谢谢谢谢谢谢谢谢谢", "谢"),
        ("I am I am I am I am here", "I am"),
        ("您好请问有什么可以帮您", None),
        ("哈哈哈哈", None),  # a short laugh is not a loop
    ],
)
def test_repeated_ngram(text: str, gram: str | None) -> None:
    assert repeated_ngram(text) == gram


@pytest.mark.parametrize(
    ("segment", "reason"),
    [
        (_seg("保费是多少", compression_ratio=2.9), "repetition_loop"),
        (_seg("对对对对对对对对对对对对"), "repetition_loop"),
        (_seg("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目"), "hallucination"),
        (_seg("字幕由Amara.org社区提供"), "hallucination"),
        (_seg(" Thank you for watching!"), "hallucination"),
        (_seg("您的保单已经生效", avg_logprob=-1.4), "low_confidence"),
        (_seg("您的保单已经生效", avg_logprob=-0.3), None),
    ],
)
def test_suspect_segments_are_marked_with_the_reason(
    segment: AsrSegment, reason: str | None
) -> None:
    assert mark_unreliable([segment])[0].unreliable == reason


def test_guard_drops_then_marks() -> None:
    out = guard_segments([_seg("x", no_speech_prob=0.95, avg_logprob=-2.0), _seg("感谢观看")])
    assert [(s.text, s.unreliable) for s in out] == [("感谢观看", "hallucination")]


# --------------------------------------------------------------------------- loops in Chinese
@pytest.mark.parametrize(
    ("text", "gram"),
    [
        # Whisper puts spaces between its Chinese word pieces: still a loop of 计划.
        ("计划 计划 计划 计划", "计划"),
        # A whole segment that is one phrase said three times (invented on a quiet channel).
        ("证判 证判 证判", "证判"),
        # One character stuck at the end of a sentence.
        ("感谢您的来电 祝您生活愉快。再 见 见 见 见", "见"),
        ("对对对对", None),  # said on purpose
        ("好的，好的，我明白了", None),
    ],
)
def test_chinese_loops_are_found_whatever_the_spaces(text: str, gram: str | None) -> None:
    assert repeated_ngram(text) == gram


def _w(text: str, start: float, end: float) -> AsrWord:
    return AsrWord(text, start, end, 0.9)


def test_loop_copies_are_cut_from_text_and_words() -> None:
    words = (
        _w("感谢您的来电", 0.0, 1.0),
        _w("再", 1.0, 1.2),
        _w("见", 1.2, 1.4),
        _w("见", 1.4, 1.6),
        _w("见", 1.6, 1.8),
        _w("见", 1.8, 2.0),
    )
    seg = AsrSegment(0.0, 2.0, "感谢您的来电再见见见见", words=words)
    out = guard_segments([seg])[0]
    assert out.unreliable == "repetition_loop"
    assert out.text == "感谢您的来电再见"
    assert [w.text for w in out.words] == ["感谢您的来电", "再", "见"]
    assert out.end == pytest.approx(1.4)


def test_loop_without_words_is_cut_in_the_text() -> None:
    assert collapse_loop(_seg("计划 计划 计划 计划")).text == "计划"


# --------------------------------------------------------------------------- voice activity
def test_words_on_the_channels_silence_are_dropped() -> None:
    voiced = [(0.0, 2.0), (10.0, 12.0)]
    seg = AsrSegment(
        0.5,
        7.5,
        "您好请问计划计划",
        words=(
            _w("您好", 0.5, 1.0),
            _w("请问", 1.2, 1.9),
            _w("计划", 5.0, 6.0),
            _w("计划", 6.5, 7.5),
        ),
    )
    only_silence = AsrSegment(4.0, 6.0, "证判", words=(_w("证判", 4.0, 6.0),))
    out = drop_outside_voice([seg, only_silence], voiced)
    assert [(s.text, s.start, s.end) for s in out] == [("您好请问", 0.5, 1.9)]


def test_word_timings_slightly_outside_the_voice_are_kept() -> None:
    # Whisper's last word often ends a little after the energy VAD's span: not invented.
    seg = AsrSegment(10.0, 12.3, "再见", words=(_w("再见", 11.5, 12.25),))
    assert drop_outside_voice([seg], [(10.0, 12.0)]) == [seg]


def test_wordless_segment_is_judged_by_its_span() -> None:
    assert drop_outside_voice([_seg("您好")], [(1.0, 3.0)]) == [_seg("您好")]
    assert drop_outside_voice([_seg("您好")], [(5.0, 6.0)]) == []


def test_silent_channel_keeps_no_text() -> None:
    assert guard_segments([_seg("计划 计划 计划 计划")], voiced=[]) == []


def test_short_speech_on_a_noisy_line_still_goes_to_asr() -> None:
    # A customer who says little on a line with steady noise 25 dB under the speech peaks:
    # the noise is most of the "loud" frames. Before, this channel was never transcribed.
    rng = np.random.default_rng(3)
    noise = (rng.standard_normal(60 * 16000) * 0.01).astype(np.float32)
    words = np.concatenate([speechlike(1.5, level=0.15), np.zeros(16000, np.float32)] * 3)
    channel = noise.copy()
    channel[20 * 16000 : 20 * 16000 + words.size] += words
    assert has_speech_energy(channel)
    assert not has_speech_energy(noise)


def test_loop_split_over_segments_is_cut() -> None:
    # Whisper wrote each copy of the invented phrase as its own short segment.
    first = AsrSegment(
        83.7,
        84.7,
        "我知道的 好证则",
        words=(_w("我知道的", 83.7, 84.2), _w(" 好", 84.2, 84.4), _w("证则", 84.4, 84.7)),
    )
    copies = [
        AsrSegment(
            84.7 + 0.3 * i,
            85.0 + 0.3 * i,
            " 证则",
            words=(_w(" 证则", 84.7 + 0.3 * i, 85.0 + 0.3 * i),),
        )
        for i in range(4)
    ]
    out = guard_segments([first, *copies])
    assert "".join(s.text for s in out) == "我知道的 好证则"


def test_the_same_short_reply_in_separate_turns_is_not_a_loop() -> None:
    replies = [
        AsrSegment(10.0 * i, 10.0 * i + 0.5, "好的", words=(_w("好的", 10.0 * i, 10.0 * i + 0.5),))
        for i in range(5)
    ]
    assert guard_segments(replies) == replies


def test_text_the_alignment_could_not_place_is_dropped() -> None:
    # After the agent's last "再见" Whisper echoed the hot-word prompt (受益人变更) at the end of
    # the audio; most of its words got zero duration from the alignment.
    real = AsrSegment(
        0.05,
        7.48,
        "您好 好的 再见",
        words=(_w("您好", 0.05, 1.0), _w(" 好的", 5.3, 6.4), _w(" 再见", 6.98, 7.48)),
    )
    echo = AsrSegment(
        7.48,
        8.46,
        "许益人变更 许益",
        words=(
            _w("许", 7.48, 7.68),
            _w("益", 7.68, 7.68),
            _w("人", 7.68, 8.16),
            _w("变", 8.16, 8.46),
            _w("更", 8.46, 8.46),
            _w(" 许", 8.46, 8.46),
            _w("益", 8.46, 8.46),
        ),
        avg_logprob=-1.08,
        no_speech_prob=0.54,
    )
    assert [s.text for s in guard_segments([real, echo], voiced=[(0.3, 3.2), (5.9, 7.9)])] == [
        "您好 好的 再见"
    ]


def test_last_sentence_before_an_unplaced_loop_is_kept() -> None:
    # The customer's last words and a loop Whisper could not place, in one segment: the loop
    # is cut first, so the segment is not taken for unplaced text and dropped whole.
    words = (
        _w("没有", 54.42, 55.58),
        _w("能", 55.58, 55.88),
        _w("谢谢", 55.88, 56.62),
        _w(" 证", 56.62, 57.3),
        *(_w(" 证", 57.3, 57.3) for _ in range(6)),
    )
    seg = AsrSegment(54.42, 57.3, "没有能谢谢 证 证 证 证 证 证 证", words=words)
    out = guard_segments([seg], voiced=[(55.26, 56.06), (56.31, 56.93)])
    assert [s.text for s in out] == ["没有能谢谢 证"]
