"""Guards around ASR: no invented text on silence or music, and suspect spans marked.

* :func:`has_speech_energy` — checked BEFORE the model runs: a channel whose loudest frames stay
  near digital silence, or whose energy never shows the syllable-rate modulation of speech
  (held tones, chords, hum, hiss), is not sent to Whisper at all. Rhythmic music passes this
  cheap check on purpose and is stopped by Whisper's VAD filter and no-speech rule.
* :func:`drop_non_speech` — Whisper's own rule: a segment with ``no_speech_prob`` > 0.6 and a low
  ``avg_logprob`` is dropped.
* :func:`mark_unreliable` — repetition loops (compression ratio > 2.4, or an n-gram repeated
  many times in a row), known hallucination phrases (幻觉, data file
  ``qa_platform/data/hallucinations.txt``) and low-confidence spans (avg_logprob < -1.0) get
  ``segment.unreliable`` set to the reason; the ``asr_unreliable`` flag reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from importlib import resources

import numpy as np

from workers.asr_types import AsrSegment

SAMPLE_RATE = 16_000
SILENCE_DBFS = -50.0  # loudest 50 ms frame below this → silence
# Median frame-to-frame energy change: speech 0.26–0.39 clean, 0.11 at 5 dB SNR in white noise;
# held chords 0.04, steady hiss 0.02. Kept low on purpose: dropping real speech is far worse
# than letting music through to Whisper's own VAD and no-speech rule (the second line).
MIN_MODULATION = 0.08
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
COMPRESSION_RATIO = 2.4
MIN_REPEATS = 4

_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[\s,.!?;:，。！？；：、\"'“”‘’()（）\[\]-]+")


def frame_rms_db(samples: np.ndarray, frame_s: float = 0.05) -> np.ndarray:
    """RMS energy in dBFS of consecutive ``frame_s`` frames of a mono signal."""
    n = int(frame_s * SAMPLE_RATE)
    usable = samples[: samples.size - samples.size % n].reshape(-1, n)
    if usable.size == 0:
        return np.full(1, -120.0)
    rms = np.sqrt(np.mean(usable.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-6))


def has_speech_energy(samples: np.ndarray) -> bool:
    """False for digital silence or steady sound (tones, chords, hum, hiss) — skip ASR then."""
    db = frame_rms_db(samples)
    if db.max() < SILENCE_DBFS:
        return False
    loud = db[db > db.max() - 30.0]
    if loud.size < 4:
        return True
    envelope = 10 ** (loud / 20)
    # Median frame-to-frame relative change of the energy (see MIN_MODULATION).
    modulation = float(np.median(np.abs(np.diff(envelope)) / (envelope[1:] + 1e-9)))
    return modulation >= MIN_MODULATION


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


def repeated_ngram(text: str, min_repeats: int = MIN_REPEATS, max_n: int = 12) -> str | None:
    """The n-gram (characters for Chinese, words otherwise) repeated ``min_repeats`` times in a row."""
    units: Sequence[str] = text.split() if " " in text.strip() else _normalise(text)
    for n in range(1, max_n + 1):
        for i in range(0, len(units) - n * min_repeats + 1):
            gram = list(units[i : i + n])
            if all(list(units[i + k * n : i + (k + 1) * n]) == gram for k in range(min_repeats)):
                if n == 1 and len(units) < 8:  # "哈哈哈哈" in a short reply is not a loop
                    continue
                return ("" if isinstance(units, str) else " ").join(gram)
    return None


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


def guard_segments(segments: Iterable[AsrSegment]) -> list[AsrSegment]:
    """Drop non-speech segments, then mark the suspect ones."""
    return mark_unreliable(drop_non_speech(segments))
