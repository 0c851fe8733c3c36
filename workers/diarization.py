"""Speaker diarization (说话人分离): who spoke when.

* stereo → one speaker per channel, turns from each channel's voice activity, labelled
  ``agent``/``customer`` by the channel map;
* mono with a local pyannote.audio pipeline directory → :class:`PyannoteDiarizer`;
* mono without one → :class:`ClusteringDiarizer`, a built-in two-speaker fallback (voice
  activity → MFCC window embeddings → two clusters → smoothing → turns).

Every path returns our :class:`Turn` list; :func:`assign_words_to_turns` then groups words into
transcript segments.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa_platform.domain.transcript import Role, Segment, Word
from workers.features import HOP_S, Activity, channel_roles, mask_to_spans, voice_activity

SAMPLE_RATE = 16_000
TURN_GAP_S = 0.4  # pauses shorter than this stay inside one turn
SEGMENT_PAUSE_S = 1.0  # a longer pause starts a new transcript segment


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker's stretch of talk."""

    speaker: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


class Diarizer(Protocol):
    """Mono diarization engine: 16 kHz float32 samples → speaker turns."""

    name: str

    def diarize(self, samples: np.ndarray) -> list[Turn]: ...


# --------------------------------------------------------------------------- stereo
def stereo_turns(
    audio_channels: np.ndarray,
    *,
    agent_channel: int = 0,
    activities: Sequence[Activity] | None = None,
    gap_s: float = TURN_GAP_S,
) -> list[Turn]:
    """Turns of a stereo call: each channel is one speaker, named by its role."""
    acts = activities or [voice_activity(ch) for ch in audio_channels]
    roles = channel_roles(len(acts), agent_channel)
    turns = [
        Turn(role, span.start, span.end)
        for role, act in zip(roles, acts, strict=True)
        for span in mask_to_spans(_bridge(act.active, gap_s), HOP_S, 0.0)
    ]
    return sorted(turns, key=lambda t: (t.start, t.speaker))


def _bridge(mask: np.ndarray, gap_s: float) -> np.ndarray:
    """Fill inner gaps shorter than ``gap_s`` in a frame mask."""
    out = mask.copy()
    active = np.flatnonzero(mask)
    if active.size == 0:
        return out
    gaps = np.flatnonzero(np.diff(active) > 1)
    max_gap = round(gap_s / HOP_S)
    for g in gaps:
        a, b = active[g] + 1, active[g + 1]
        if b - a <= max_gap:
            out[a:b] = True
    return out


# --------------------------------------------------------------------------- mono fallback
@dataclass
class ClusteringDiarizer:
    """Built-in two-speaker diarization: energy VAD, MFCC window embeddings, 2 clusters."""

    window_s: float = 1.5
    hop_s: float = 0.75
    speakers: int = 2
    smooth_s: float = 1.0
    name: str = "builtin-mfcc-kmeans"

    def diarize(self, samples: np.ndarray) -> list[Turn]:
        act = voice_activity(samples)
        speech = _bridge(act.active, 0.3)
        starts = self._window_starts(speech)
        if len(starts) < self.speakers:
            return _single_speaker(speech)
        embeddings = self._embeddings(samples, starts)
        labels = _two_clusters(embeddings, self.speakers)
        frame_labels = self._frame_labels(starts, labels, speech.size)
        frame_labels = _median_smooth(frame_labels, round(self.smooth_s / HOP_S) | 1)
        frame_labels[~speech] = -1
        return _labels_to_turns(frame_labels)

    def _window_starts(self, speech: np.ndarray) -> list[int]:
        win, hop = int(self.window_s / HOP_S), int(self.hop_s / HOP_S)
        starts = range(0, max(1, speech.size - win + 1), hop)
        return [s for s in starts if speech[s : s + win].mean() >= 0.5]

    def _embeddings(self, samples: np.ndarray, starts: Sequence[int]) -> np.ndarray:
        import librosa

        mfcc = librosa.feature.mfcc(
            y=samples.astype(np.float32),
            sr=SAMPLE_RATE,
            n_mfcc=20,
            n_fft=400,
            hop_length=int(HOP_S * SAMPLE_RATE),
            n_mels=40,
        )[1:]  # drop c0 (loudness)
        mfcc = (mfcc - mfcc.mean(axis=1, keepdims=True)) / (mfcc.std(axis=1, keepdims=True) + 1e-8)
        win = int(self.window_s / HOP_S)
        rows = [
            np.concatenate([mfcc[:, s : s + win].mean(axis=1), mfcc[:, s : s + win].std(axis=1)])
            for s in starts
        ]
        x = np.asarray(rows)
        return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-8)

    def _frame_labels(self, starts: Sequence[int], labels: np.ndarray, frames: int) -> np.ndarray:
        win = int(self.window_s / HOP_S)
        votes = np.zeros((frames, self.speakers))
        for s, label in zip(starts, labels, strict=True):
            votes[s : s + win, label] += 1
        out = votes.argmax(axis=1)
        uncovered = votes.sum(axis=1) == 0
        if uncovered.any():  # nearest covered frame decides
            covered = np.flatnonzero(~uncovered)
            nearest = covered[
                np.abs(covered[None, :] - np.flatnonzero(uncovered)[:, None]).argmin(axis=1)
            ]
            out[uncovered] = out[nearest]
        return out


def _two_clusters(x: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)


def _median_smooth(labels: np.ndarray, width: int) -> np.ndarray:
    from scipy.ndimage import median_filter

    return median_filter(labels, size=width, mode="nearest")


def _labels_to_turns(frame_labels: np.ndarray) -> list[Turn]:
    turns: list[Turn] = []
    for label in sorted(set(frame_labels.tolist()) - {-1}):
        for span in mask_to_spans(frame_labels == label, HOP_S, 0.0):
            turns.append(Turn(f"speaker_{label}", span.start, span.end))
    return sorted(turns, key=lambda t: t.start)


def _single_speaker(speech: np.ndarray) -> list[Turn]:
    return [Turn("speaker_0", s.start, s.end) for s in mask_to_spans(speech, HOP_S, 0.0)]


# --------------------------------------------------------------------------- pyannote
class PyannoteDiarizer:
    """pyannote.audio pipeline loaded from a LOCAL directory (config.yaml + checkpoints).

    The directory is what ``Pipeline.from_pretrained`` accepts offline: a ``config.yaml`` whose
    model entries point at local checkpoint files or folders. Loads once, on first use.
    """

    name = "pyannote"

    def __init__(self, directory: str | Path, *, num_speakers: int | None = 2) -> None:
        self.directory = Path(directory)
        if not (self.directory / "config.yaml").is_file():
            raise FileNotFoundError(
                f"pyannote pipeline directory {self.directory} has no config.yaml"
            )
        self.num_speakers = num_speakers
        self._pipeline: Any = None

    def load(self) -> Any:
        if self._pipeline is None:
            os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from pyannote.audio import Pipeline

            pipeline = Pipeline.from_pretrained(self.directory)
            if pipeline is None:
                raise RuntimeError(f"pyannote could not load a pipeline from {self.directory}")
            self._pipeline = pipeline
        return self._pipeline

    def diarize(self, samples: np.ndarray) -> list[Turn]:
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None, :]
        kwargs = {"num_speakers": self.num_speakers} if self.num_speakers else {}
        output = self.load()({"waveform": waveform, "sample_rate": SAMPLE_RATE}, **kwargs)
        return annotation_to_turns(getattr(output, "speaker_diarization", output))


def annotation_to_turns(annotation: Any) -> list[Turn]:
    """pyannote ``Annotation`` → our turns (speaker labels kept as strings)."""
    turns = [
        Turn(str(label), round(float(seg.start), 3), round(float(seg.end), 3))
        for seg, _, label in annotation.itertracks(yield_label=True)
    ]
    return sorted(turns, key=lambda t: (t.start, t.speaker))


def make_mono_diarizer(pyannote_dir: str = "") -> Diarizer:
    """The pyannote pipeline when a directory is configured, else the built-in fallback."""
    return PyannoteDiarizer(pyannote_dir) if pyannote_dir else ClusteringDiarizer()


# --------------------------------------------------------------------------- words → segments
def speaker_at(turns: Sequence[Turn], start: float, end: float) -> str | None:
    """The speaker whose turns overlap ``[start, end]`` most (nearest turn if none overlaps)."""
    if not turns:
        return None
    overlap: dict[str, float] = {}
    for t in turns:
        o = min(end, t.end) - max(start, t.start)
        if o > 0:
            overlap[t.speaker] = overlap.get(t.speaker, 0.0) + o
    if overlap:
        return max(overlap.items(), key=lambda kv: kv[1])[0]
    mid = (start + end) / 2
    return min(turns, key=lambda t: min(abs(mid - t.start), abs(mid - t.end))).speaker


def assign_words_to_turns(
    words: Sequence[Word],
    turns: Sequence[Turn],
    *,
    roles: dict[str, Role] | None = None,
    pause_s: float = SEGMENT_PAUSE_S,
) -> list[Segment]:
    """Give each word the speaker it overlaps most, then group consecutive words into segments.

    A new segment starts when the speaker changes or the pause before a word exceeds ``pause_s``.
    """
    roles = roles or {}
    segments: list[Segment] = []
    for word in sorted(words, key=lambda w: w.start):
        speaker = speaker_at(turns, word.start, word.end) or "unknown"
        last = segments[-1] if segments else None
        if last is None or last.speaker != speaker or word.start - last.end > pause_s:
            segments.append(_new_segment(speaker, roles.get(speaker, Role.UNKNOWN), word))
        else:
            last.words.append(word)
            last.text += word.text
            last.end = max(last.end, word.end)
    for seg in segments:
        seg.text = seg.text.strip()
        seg.confidence = round(float(np.mean([w.confidence for w in seg.words])), 4)
    return segments


def _new_segment(speaker: str, role: Role, word: Word) -> Segment:
    return Segment(
        speaker=speaker, role=role, start=word.start, end=word.end, text=word.text, words=[word]
    )
