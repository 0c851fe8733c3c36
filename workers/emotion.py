"""Voice arousal of the customer's segments (客户情绪, acoustic part) with librosa.

For each customer segment: the median pitch (``librosa.yin``, in semitones) and the mean RMS
energy (dBFS) over its voiced frames, each turned into a z-score against the same speaker's
segments in the same call (their own baseline: a loud line or a high voice is not anger).
:func:`customer_emotion` adds the text score and combines both (``qa_platform.emotion``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qa_platform.domain.transcript import Role, Segment
from qa_platform.emotion import Arousal, SegmentEmotion, TextScorer, score_segments
from qa_platform.emotion import snownlp_negativity as default_text_scorer
from workers.features import HOP, SAMPLE_RATE, adaptive_threshold, frame_db

FMIN_HZ, FMAX_HZ = 65.0, 400.0  # telephone voices, male to female
YIN_FRAME = 1024  # 64 ms at 16 kHz: two periods of the lowest pitch
MIN_VOICED_FRAMES = 5  # 50 ms of voice, else the segment's voice is not measured
PITCH_STD_FLOOR = 1.0  # semitones: a speaker steadier than this still needs a real change
ENERGY_STD_FLOOR = 1.5  # dB


def segment_voice(
    samples: np.ndarray, start: float, end: float, threshold: float
) -> tuple[float | None, float | None]:
    """Median pitch (semitones re 100 Hz) and mean dBFS of the voiced frames in ``[start, end]``
    of one channel; (None, None) where fewer than ``MIN_VOICED_FRAMES`` are voiced."""
    import librosa

    clip = samples[max(0, int(start * SAMPLE_RATE)) : int(end * SAMPLE_RATE)]
    if clip.size < YIN_FRAME:
        return None, None
    db = frame_db(clip)
    voiced = db > threshold
    if int(voiced.sum()) < MIN_VOICED_FRAMES:
        return None, None
    f0 = librosa.yin(
        clip.astype(np.float32),
        fmin=FMIN_HZ,
        fmax=FMAX_HZ,
        sr=SAMPLE_RATE,
        frame_length=YIN_FRAME,
        hop_length=HOP,
    )
    n = min(f0.size, voiced.size)
    pitched = f0[:n][voiced[:n] & (f0[:n] > FMIN_HZ) & (f0[:n] < FMAX_HZ)]
    pitch = float(12 * np.log2(np.median(pitched) / 100.0)) if pitched.size else None
    return pitch, float(db[voiced].mean())


def zscores(values: Sequence[float | None], floor: float) -> list[float | None]:
    """Each value against the mean and spread of the measured ones (spread at least ``floor``);
    fewer than two measured values give 0 (no baseline yet)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return [None if v is None else 0.0 for v in values]
    mean = sum(known) / len(known)
    std = max(floor, math.sqrt(sum((v - mean) ** 2 for v in known) / len(known)))
    return [None if v is None else (v - mean) / std for v in values]


def customer_arousal(samples: np.ndarray, segments: Sequence[tuple[float, float]]) -> list[Arousal]:
    """Arousal of each customer segment ``(start, end)`` of one channel (the customer's own
    channel for stereo, the mix for mono) against the customer's other segments."""
    threshold = adaptive_threshold(frame_db(samples))
    measured = [segment_voice(samples, a, b, threshold) for a, b in segments]
    pitch = zscores([m[0] for m in measured], PITCH_STD_FLOOR)
    energy = zscores([m[1] for m in measured], ENERGY_STD_FLOOR)
    return [Arousal(p, e) for p, e in zip(pitch, energy, strict=True)]


def customer_emotion(
    channels: np.ndarray,
    segments: Sequence[Segment],
    customer_channel: int,
    text_scorer: TextScorer = default_text_scorer,
) -> list[SegmentEmotion]:
    """Scores of every customer segment of the transcript (``idx`` = its index in
    ``segments``); ``channels`` is the decoded audio, one row per channel at 16 kHz."""
    chosen = [(i, s) for i, s in enumerate(segments) if s.role == Role.CUSTOMER]
    if not chosen:
        return []
    row = channels[min(customer_channel, channels.shape[0] - 1)]
    voice = customer_arousal(row, [(s.start, s.end) for _, s in chosen])
    spans = [(i, s.start, s.end, s.text) for i, s in chosen]
    return score_segments(spans, voice, text_scorer)
