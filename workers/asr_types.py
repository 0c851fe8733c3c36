"""Our own ASR result types: the rest of the code never sees faster-whisper objects."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class AsrWord:
    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class AsrSegment:
    """One decoded span with Whisper's quality signals; ``unreliable`` names a guard's reason."""

    start: float
    end: float
    text: str
    words: tuple[AsrWord, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0
    unreliable: str | None = None

    def shifted(self, offset: float) -> AsrSegment:
        """The same segment with every time moved by ``offset`` seconds."""
        words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in self.words)
        return replace(self, start=self.start + offset, end=self.end + offset, words=words)


@dataclass(frozen=True, slots=True)
class AsrResult:
    """What one transcription produced, and with which model, device and batch size."""

    segments: tuple[AsrSegment, ...]
    language: str
    language_probability: float = 1.0
    duration_s: float = 0.0
    model: str = ""
    model_version: str = ""
    device: str = "cpu"
    compute_type: str = "int8"
    batch_size: int = 1
    notes: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)
