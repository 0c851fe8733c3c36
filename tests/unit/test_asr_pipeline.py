"""The transcribe stage on a stereo call with a scripted engine: what reaches the transcript.

Guards what the Mandarin corpus showed: text invented on a quiet channel (line noise that
Whisper's own VAD lets through) stored as customer speech, loops kept in full, and the last
utterance of a call lost when Whisper gives its segment no word timings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qa_platform.domain.transcript import Role
from qa_platform.settings import Settings
from tests.helpers.audio import build, write_wav
from workers.asr_types import AsrResult, AsrSegment, AsrWord
from workers.pipeline import analyse_audio, lost_speech_spans, redecode_suspects

pytestmark = pytest.mark.worker  # librosa / PyAV: the worker extra


class ScriptedTranscriber:
    """Returns fixed segments per channel, in the order the channels are transcribed; a later
    decode (of a stretch the first reading left without text) reads nothing."""

    model_name = "scripted"
    model_version = "0"

    def __init__(self, *per_channel: list[AsrSegment]) -> None:
        self._results = list(per_channel)
        self.calls: list[int] = []

    def transcribe(
        self, samples: np.ndarray, language: str | None = None, *, hotwords: bool = True
    ) -> AsrResult:
        self.calls.append(samples.size)
        whole = samples.size == self.calls[0]  # channels are equally long; clips are shorter
        segments = self._results.pop(0) if whole and self._results else []
        return AsrResult(tuple(segments), language or "zh")


def _w(text: str, start: float, end: float) -> AsrWord:
    return AsrWord(text, start, end, 0.9)


def _seg(start: float, end: float, words: list[AsrWord]) -> AsrSegment:
    return AsrSegment(start, end, "".join(w.text for w in words), words=tuple(words))


@pytest.fixture
def call_wav(tmp_path: Path) -> Path:
    # agent speaks 0–3 s and 8–11 s; the customer speaks 4–7 s only; line noise elsewhere.
    agent = build([("speech", 3.0), ("q", 5.0), ("speech", 3.0), ("q", 1.0)])
    customer = build([("q", 4.0), ("speech", 3.0), ("q", 5.0)])
    return write_wav(np.stack([agent, customer]), 16000, tmp_path / "call.wav")


def _run(path: Path, transcriber: ScriptedTranscriber) -> list[tuple[str, str]]:
    result = analyse_audio(path, settings=Settings(), agent_channel=0, transcriber=transcriber)
    return [(str(s.role), s.text) for s in result.transcript.segments]


def test_each_channel_is_transcribed_whole(call_wav: Path) -> None:
    transcriber = ScriptedTranscriber([], [])
    _run(call_wav, transcriber)
    assert transcriber.calls.count(12 * 16000) == 2  # then only the voiced stretches again
    assert all(n < 12 * 16000 for n in transcriber.calls if n != 12 * 16000)


def test_text_on_the_customers_silence_is_not_stored(call_wav: Path) -> None:
    agent = [_seg(0.1, 2.8, [_w("您好", 0.1, 1.0), _w("请讲", 1.2, 2.8)])]
    customer = [
        _seg(4.2, 6.8, [_w("我想", 4.2, 5.0), _w("查保单", 5.2, 6.8)]),
        _seg(8.5, 11.5, [_w("计划", 8.5, 9.0), _w(" 计划", 9.5, 10.0), _w(" 计划", 10.5, 11.5)]),
    ]
    assert _run(call_wav, ScriptedTranscriber(agent, customer)) == [
        ("agent", "您好请讲"),
        ("customer", "我想查保单"),
    ]


def test_last_utterance_without_word_timings_is_kept(call_wav: Path) -> None:
    agent = [
        _seg(0.1, 2.8, [_w("您好", 0.1, 1.0), _w("请讲", 1.2, 2.8)]),
        AsrSegment(8.2, 10.9, "感谢您的来电，再见。"),  # Whisper gave it no words
    ]
    stored = _run(call_wav, ScriptedTranscriber(agent, []))
    assert stored[-1] == ("agent", "感谢您的来电，再见。")


def test_a_loop_at_the_end_of_a_call_is_cut_to_one_copy(call_wav: Path) -> None:
    words = [_w("再", 8.5, 9.0), *(_w("见", 9.0 + 0.4 * i, 9.4 + 0.4 * i) for i in range(4))]
    stored = _run(call_wav, ScriptedTranscriber([_seg(8.5, 10.6, words)], []))
    assert stored == [("agent", "再见")]


def test_roles_follow_the_channel_map(call_wav: Path) -> None:
    agent = [_seg(0.1, 2.8, [_w("您好", 0.1, 2.8)])]
    customer = [_seg(4.2, 6.8, [_w("喂", 4.2, 6.8)])]
    result = analyse_audio(
        call_wav,
        settings=Settings(),
        agent_channel=1,
        transcriber=ScriptedTranscriber(agent, customer),
    )
    assert [(s.role, s.text) for s in result.transcript.segments] == [
        (Role.CUSTOMER, "您好"),
        (Role.AGENT, "喂"),
    ]


class PromptedTranscriber:
    """A first (prompted) reading per channel, and what a decode without hot words reads."""

    model_name = "prompted"
    model_version = "0"

    def __init__(self, first: list[AsrSegment], unprompted: list[AsrSegment]) -> None:
        self.first, self.unprompted = first, unprompted
        self.retries: list[tuple[int, bool]] = []

    def prompts_hotwords(self, language: str | None) -> bool:
        return True

    def transcribe(
        self, samples: np.ndarray, language: str | None = None, *, hotwords: bool = True
    ) -> AsrResult:
        if hotwords:
            return AsrResult(tuple(self.first), "zh")
        self.retries.append((samples.size, hotwords))
        return AsrResult(tuple(self.unprompted), "zh")


def _loop_segment() -> AsrSegment:
    words = [_w("你们到底什么时候赔", 14.5, 16.0)] + [
        _w("受益人", 16.0 + i * 0.4, 16.4 + i * 0.4) for i in range(12)
    ]
    return AsrSegment(14.5, 21.0, "".join(w.text for w in words), words=tuple(words))


def test_a_loop_the_hot_word_prompt_caused_is_read_again_without_it() -> None:
    samples = np.zeros(16000 * 30, dtype=np.float32)
    clean = _seg(0.2, 6.0, [_w("你们到底什么时候赔", 0.2, 2.0), _w("我要投诉", 3.0, 4.0)])
    good = _seg(1.0, 2.0, [_w("您好", 1.0, 2.0)])
    t = PromptedTranscriber([good, _loop_segment()], [clean])
    out = redecode_suspects(t, samples, "zh", t.first)
    assert [s.text for s in out] == ["您好", "你们到底什么时候赔我要投诉"]
    assert out[1].start == pytest.approx(14.2 + 0.2) and out[1].words[1].start == pytest.approx(
        17.2
    )
    assert t.retries == [(int((21.3 - 14.2) * 16000), False)]  # only the suspect span, no prompt


def test_the_first_reading_stays_when_the_retry_is_no_sounder() -> None:
    samples = np.zeros(16000 * 30, dtype=np.float32)
    t = PromptedTranscriber([_loop_segment()], [_loop_segment().shifted(-14.2)])
    assert redecode_suspects(t, samples, "zh", t.first) == (t.first[0],)
    assert (
        redecode_suspects(PromptedTranscriber([_loop_segment()], []), samples, "zh", t.first)[0]
        == t.first[0]
    )


def test_without_a_hot_word_prompt_nothing_is_decoded_twice(call_wav: Path) -> None:
    t = ScriptedTranscriber([_loop_segment()], [_seg(4.0, 7.0, [_w("我想查保单", 4.0, 7.0)])])
    analyse_audio(call_wav, settings=Settings(), agent_channel=0, transcriber=t)
    whole = [n for n in t.calls if n == 12 * 16000]
    assert len(whole) == 2  # one decode per channel, no retry: it has no prompt to drop


class LosingTranscriber:
    """Whisper base on zh-036: the whole-channel reading stops after the first utterance; the
    same audio decoded on its own reads the rest."""

    model_name = "losing"
    model_version = "0"

    def __init__(self) -> None:
        self.clips: list[tuple[int, bool]] = []

    def transcribe(
        self, samples: np.ndarray, language: str | None = None, *, hotwords: bool = True
    ) -> AsrResult:
        if samples.size == 12 * 16000:  # a whole channel
            return AsrResult((_seg(0.1, 2.8, [_w("您好请讲", 0.1, 2.8)]),), "zh")
        self.clips.append((samples.size, hotwords))
        n = samples.size / 16000
        return AsrResult((_seg(0.2, n - 0.2, [_w("你们这个垃圾公司", 0.2, n - 0.2)]),), "zh")


def test_voiced_speech_the_first_reading_dropped_is_decoded_again(call_wav: Path) -> None:
    t = LosingTranscriber()
    result = analyse_audio(call_wav, settings=Settings(), agent_channel=0, transcriber=t)
    texts = [(str(s.role), s.text, round(s.start)) for s in result.transcript.segments]
    assert ("customer", "你们这个垃圾公司", 4) in texts  # the customer's 4–7 s, recovered
    assert ("agent", "你们这个垃圾公司", 8) in texts  # the agent's second utterance too
    assert all(not hotwords for _n, hotwords in t.clips)  # without the hot-word prompt
    assert all(n < 5 * 16000 for n, _h in t.clips)  # only the lost stretch, padded


def test_lost_speech_spans_skip_what_the_first_reading_covers() -> None:
    voiced = [(0.0, 1.5), (1.9, 3.0), (5.0, 5.4), (8.0, 10.0), (10.5, 12.0)]
    covered = [_seg(8.5, 9.0, [_w("好", 8.5, 9.0)])]
    # 0–3 s joined (gap 0.4 s), 5.0–5.4 too short, 8–12 s (joined) has a segment
    assert lost_speech_spans(voiced, covered) == [(0.0, 3.0)]
