"""Guards around ASR: no invented text on silence or music, and suspect spans marked.

* :func:`has_speech_energy` — checked BEFORE the model runs: a channel whose loudest frames stay
  near digital silence, or whose energy never shows the syllable-rate modulation of speech
  (held tones, chords, hum, hiss), is not sent to Whisper at all. The modulation is also read
  on the frames that stand out of the channel's background, so a customer who says little on
  a noisy line (15 dB SNR) is still transcribed. Rhythmic music passes this
  cheap check on purpose and is stopped by Whisper's VAD filter and no-speech rule.
* :func:`drop_non_speech` — Whisper's own rule: a segment with ``no_speech_prob`` > 0.6 and a low
  ``avg_logprob`` is dropped.
* :func:`mark_unreliable` — repetition loops (compression ratio > 2.4, or an n-gram repeated
  many times in a row), known hallucination phrases (幻觉, data file
  ``qa_platform/data/hallucinations.txt``) and low-confidence spans (avg_logprob < -1.0) get
  ``segment.unreliable`` set to the reason; the ``asr_unreliable`` flag reads it. Chinese is
  checked character by character whatever spaces Whisper put between its word pieces ("计划
  计划 计划 计划" is a loop); a whole segment that is one phrase said three times is one too.
* :func:`collapse_loop` — the extra copies of a loop are cut out ("再见见见见" → "再见"); the
  segment stays marked.
* :func:`drop_unaligned` — a segment most of whose words Whisper's alignment gave no time
  (under 20 ms) is dropped: text not placed on any audio, typically the hot-word prompt echoed
  after a channel's last sentence.
* :func:`drop_outside_voice` — words lying entirely where the channel's own voice activity
  (workers/features.py) says nobody speaks, with 0.3 s of slack for Whisper's word timings,
  are removed; a segment left empty is dropped. Whisper's VAD runs on its own 16 kHz view and
  lets line noise through on a quiet channel; this check uses the same activity as the
  silence and talk-time features, so the transcript never contradicts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from importlib import resources

import numpy as np

from workers.asr_types import AsrSegment, AsrWord

SAMPLE_RATE = 16_000
SILENCE_DBFS = -50.0  # loudest 50 ms frame below this → silence
# Median frame-to-frame energy change: speech 0.26–0.39 clean, 0.11 at 5 dB SNR in white noise;
# held chords 0.04, steady hiss 0.02. Kept low on purpose: dropping real speech is far worse
# than letting music through to Whisper's own VAD and no-speech rule (the second line).
MIN_MODULATION = 0.08
FRAME_S = 0.05
BACKGROUND_RISE_DB = 6.0  # frames this far above the channel's background stand out of it
MIN_RAISED_S = 1.0  # at least this much standing-out sound before its modulation counts
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
COMPRESSION_RATIO = 2.4
MIN_REPEATS = 4
VOICE_PAD_S = 0.3  # Whisper's word times are this loose around the energy VAD's spans
MIN_WORD_S = 0.02  # a word aligned to less audio than this was not placed on the audio
LOOP_GAP_S = 1.0  # copies of a loop follow each other closer than this
PHRASE_REPEATS = 3  # a whole segment that is one phrase said three times is a loop too
INTERJECTIONS = frozenset("哈呵嘿嘻嗯啊哦噢喔唉对好是谢喂")  # said in a row on purpose

_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_PUNCT = re.compile(r"[\s,.!?;:，。！？；：、\"'“”‘’()（）\[\]-]+")


def frame_rms_db(samples: np.ndarray, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS energy in dBFS of consecutive ``frame_s`` frames of a mono signal."""
    n = int(frame_s * SAMPLE_RATE)
    usable = samples[: samples.size - samples.size % n].reshape(-1, n)
    if usable.size == 0:
        return np.full(1, -120.0)
    rms = np.sqrt(np.mean(usable.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-6))


def has_speech_energy(samples: np.ndarray) -> bool:
    """False for digital silence or steady sound (tones, chords, hum, hiss) — skip ASR then.

    The modulation is measured twice: over the frames within 30 dB of the loudest, and over
    the frames standing out from the channel's own background (``BACKGROUND_RISE_DB`` above
    its 10th percentile). The second view matters on a noisy line where one side talks little:
    there the steady noise is most of the loud frames and drowns the median of the first.
    """
    db = frame_rms_db(samples)
    if db.max() < SILENCE_DBFS:
        return False
    loud = db[db > db.max() - 30.0]
    if loud.size < 4:
        return True
    if _modulation(loud) >= MIN_MODULATION:
        return True
    raised = db > max(float(np.percentile(db, 10)) + BACKGROUND_RISE_DB, SILENCE_DBFS)
    if raised.sum() * FRAME_S < MIN_RAISED_S:
        return False
    return _modulation(db[raised]) >= MIN_MODULATION


def _modulation(db: np.ndarray) -> float:
    """Median frame-to-frame relative change of the energy (see ``MIN_MODULATION``)."""
    envelope = 10 ** (db / 20)
    return float(np.median(np.abs(np.diff(envelope)) / (envelope[1:] + 1e-9)))


def drop_non_speech(segments: Iterable[AsrSegment]) -> list[AsrSegment]:
    """Drop segments that Whisper itself thinks are not speech (high no-speech, low logprob)."""
    return [
        s
        for s in segments
        if not (s.no_speech_prob > NO_SPEECH_PROB and s.avg_logprob < LOW_LOGPROB)
        and s.text.strip()
    ]


@lru_cache(maxsize=1)
def hallucination_phrases() -> tuple[str, ...]:
    """Known hallucination phrases, normalised (no spaces/punctuation, lower case)."""
    text = (resources.files("qa_platform") / "data" / "hallucinations.txt").read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return tuple(sorted({_normalise(x) for x in lines if x and not x.startswith("#")}))


def _normalise(text: str) -> str:
    return _PUNCT.sub("", text).lower()


def _units(text: str) -> Sequence[str]:
    """Characters for Chinese (spaces between Whisper's word pieces mean nothing there),
    words for space-separated scripts."""
    if _CJK.search(text) or " " not in text.strip():
        return _normalise(text)
    return text.split()


def find_loop(
    text: str, min_repeats: int = MIN_REPEATS, max_n: int = 12
) -> tuple[int, int, int] | None:
    """(start, gram length, repeats) in :func:`_units` of ``text`` of the first repetition loop.

    A loop is an n-gram said ``min_repeats`` times in a row, or a phrase of two or more units
    said ``PHRASE_REPEATS`` times that makes up the whole text ("证判 证判 证判"). One unit
    repeated is a loop unless it is an interjection said fewer than ``2 × min_repeats`` times
    ("哈哈哈哈", "对对对对").
    """
    units = _units(text)
    for n in range(1, max_n + 1):
        for i in range(0, len(units) - n * PHRASE_REPEATS + 1):
            gram = list(units[i : i + n])
            k = 1
            while list(units[i + k * n : i + (k + 1) * n]) == gram:
                k += 1
            whole_phrase = n >= 2 and k >= PHRASE_REPEATS and i == 0 and k * n == len(units)
            if k < min_repeats and not whole_phrase:
                continue
            if n == 1 and k < 2 * min_repeats and gram[0] in INTERJECTIONS:
                continue
            return i, n, k
    return None


def repeated_ngram(text: str, min_repeats: int = MIN_REPEATS, max_n: int = 12) -> str | None:
    """The n-gram (characters for Chinese, words otherwise) repeated in a loop, or None."""
    loop = find_loop(text, min_repeats, max_n)
    if loop is None:
        return None
    units = _units(text)
    i, n, _ = loop
    return ("" if isinstance(units, str) else " ").join(units[i : i + n])


def collapse_loop(segment: AsrSegment) -> AsrSegment:
    """``segment`` with the extra copies of a repetition loop removed ("再见见见见" → "再见").

    Works on the words when there are any (a word survives unless all its characters lie in
    the repeated copies), so that text and word timings stay consistent; otherwise on the text.
    """
    loop = find_loop(segment.text)
    if loop is None:
        return segment
    i, n, k = loop
    drop_from, drop_to = i + n, i + n * k
    if not segment.words:
        units = _units(segment.text)
        sep = "" if isinstance(units, str) else " "
        return replace(segment, text=sep.join([*units[:drop_from], *units[drop_to:]]))
    if not isinstance(_units(segment.text), str):
        kept_words = _collapse_word_units(segment, drop_from, drop_to)
    else:
        kept_words = []
        pos = 0
        for w in segment.words:
            size = len(_normalise(w.text))
            inside = size > 0 and pos >= drop_from and pos + size <= drop_to
            pos += size
            if not inside:
                kept_words.append(w)
    if not kept_words or len(kept_words) == len(segment.words):
        return segment
    return replace(
        segment,
        words=tuple(kept_words),
        text="".join(w.text for w in kept_words),
        end=kept_words[-1].end,
    )


def _collapse_word_units(segment: AsrSegment, drop_from: int, drop_to: int) -> list[AsrWord]:
    words = [w for w in segment.words if w.text.strip()]
    return [w for j, w in enumerate(words) if not drop_from <= j < drop_to]


def unreliable_reason(segment: AsrSegment) -> str | None:
    """Why ``segment`` is suspect, or None: repetition_loop, hallucination, low_confidence."""
    if segment.compression_ratio > COMPRESSION_RATIO or repeated_ngram(segment.text):
        return "repetition_loop"
    normalised = _normalise(segment.text)
    if any(p and p in normalised for p in hallucination_phrases()):
        return "hallucination"
    if segment.avg_logprob < LOW_LOGPROB:
        return "low_confidence"
    return None


def mark_unreliable(segments: Iterable[AsrSegment]) -> list[AsrSegment]:
    """The segments with ``unreliable`` set where a guard fires."""
    return [replace(s, unreliable=unreliable_reason(s)) for s in segments]


def guard_segments(
    segments: Iterable[AsrSegment], voiced: Sequence[tuple[float, float]] | None = None
) -> list[AsrSegment]:
    """Drop non-speech segments and, given the channel's ``voiced`` spans, the words said on
    its silence; then mark the suspect segments and cut the extra copies out of loops, also
    of loops Whisper split over several back-to-back segments."""
    marked = mark_unreliable(drop_non_speech(segments))
    collapsed = collapse_split_loops(
        [collapse_loop(s) if s.unreliable == "repetition_loop" else s for s in marked]
    )
    # Loops are cut first: a real last sentence followed by an unplaced loop in the same
    # segment ("没有了谢谢 证 证 证 证 证") keeps most words placed and is not dropped whole.
    # The voice check comes last so that the alignment check sees whole segments.
    kept = drop_unaligned(collapsed)
    return kept if voiced is None else drop_outside_voice(kept, voiced)


def collapse_split_loops(segments: Sequence[AsrSegment]) -> list[AsrSegment]:
    """Loops that run over several segments ("证则" / "证则 证则" / "证则 证则" …): within each
    stretch of words with no pause over ``LOOP_GAP_S``, the extra copies are removed; the
    segments that lose words are marked ``repetition_loop``, emptied ones dropped."""
    flat = [(si, w) for si, seg in enumerate(segments) for w in seg.words if _normalise(w.text)]
    runs: list[list[tuple[int, AsrWord]]] = []
    for item in flat:
        if runs and item[1].start - runs[-1][-1][1].end <= LOOP_GAP_S:
            runs[-1].append(item)
        else:
            runs.append([item])
    dropped: set[int] = set()  # id() of the words cut out
    for run in runs:
        dropped |= _loop_copies([w for _, w in run])
    if not dropped:
        return list(segments)
    out = []
    for seg in segments:
        words = tuple(w for w in seg.words if id(w) not in dropped)
        if len(words) == len(seg.words):
            out.append(seg)
        elif words:
            text = "".join(w.text for w in words)
            out.append(
                replace(
                    seg, words=words, text=text, end=words[-1].end, unreliable="repetition_loop"
                )
            )
    return out


def _loop_copies(words: list[AsrWord]) -> set[int]:
    """id() of the words that are extra copies of a loop in ``words`` (Chinese text)."""
    dropped: set[int] = set()
    remaining = list(words)
    for _ in range(8):  # a few loops per stretch at most
        text = "".join(_normalise(w.text) for w in remaining)
        if not _CJK.search(text):
            break
        loop = find_loop(text)
        if loop is None:
            break
        i, n, k = loop
        pos, keep = 0, []
        for w in remaining:
            size = len(_normalise(w.text))
            if pos >= i + n and pos + size <= i + n * k:
                dropped.add(id(w))
            else:
                keep.append(w)
            pos += size
        if len(keep) == len(remaining):
            break
        remaining = keep
    return dropped


def drop_unaligned(segments: Iterable[AsrSegment]) -> list[AsrSegment]:
    """Drop segments most of whose words got no time at all from Whisper's alignment (shorter
    than ``MIN_WORD_S``): text the model could not place on any audio. Typically the hot-word
    prompt echoed after the last sentence of a channel ("许益人变更 许益" at the very end)."""
    out = []
    for seg in segments:
        words = [w for w in seg.words if w.text.strip()]
        unplaced = sum(1 for w in words if w.end - w.start < MIN_WORD_S)
        if len(words) >= 2 and unplaced * 2 > len(words):
            continue
        out.append(seg)
    return out


def drop_outside_voice(
    segments: Iterable[AsrSegment],
    voiced: Sequence[tuple[float, float]],
    pad_s: float = VOICE_PAD_S,
) -> list[AsrSegment]:
    """Words (and word-less segments) that touch none of the ``voiced`` spans, widened by
    ``pad_s`` on each side for Whisper's loose word timings, are removed: text the channel's own
    voice activity says nobody spoke is invented. A segment left without words is dropped."""
    spans = sorted(voiced)
    starts = np.array([a - pad_s for a, _ in spans])
    ends = np.array([b + pad_s for _, b in spans])

    def touches(start: float, end: float) -> bool:
        if not spans:
            return False
        return bool(np.any((starts < max(end, start + 1e-3)) & (ends > start)))

    out: list[AsrSegment] = []
    for seg in segments:
        if not seg.words:
            if touches(seg.start, seg.end):
                out.append(seg)
            continue
        words = tuple(w for w in seg.words if touches(w.start, w.end))
        if len(words) == len(seg.words):
            out.append(seg)
        elif words and "".join(w.text for w in words).strip():
            out.append(
                replace(
                    seg,
                    words=words,
                    text="".join(w.text for w in words),
                    start=words[0].start,
                    end=words[-1].end,
                )
            )
    return out
