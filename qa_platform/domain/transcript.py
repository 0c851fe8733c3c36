"""Transcript, audio features and flags as plain dataclasses.

These are the types that cross between the speech pipeline (workers), the rules
(qa_platform.flags), storage and the web layer. Engines return these, never their own
objects. Times are seconds from the start of the call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa_platform.emotion import SegmentEmotion


class Role(StrEnum):
    """Who is speaking: the agent (客服代表), the customer, or not known."""

    AGENT = "agent"
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    start: float
    end: float
    confidence: float = 1.0


@dataclass(slots=True)
class Segment:
    """One speaker turn of the transcript (text already masked for personal data)."""

    speaker: str
    role: Role
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    confidence: float = 1.0
    # ASR guard marks: repetition loop, hallucination suspect, low confidence.
    unreliable: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["role"] = str(self.role)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Segment:
        words = [Word(**w) for w in d.get("words", [])]
        return cls(
            speaker=d["speaker"],
            role=Role(d.get("role", "unknown")),
            start=float(d["start"]),
            end=float(d["end"]),
            text=d["text"],
            words=words,
            confidence=float(d.get("confidence", 1.0)),
            unreliable=d.get("unreliable"),
        )


@dataclass(slots=True)
class Transcript:
    segments: list[Segment]
    language: str = "zh"
    model: str = ""
    # Negative-emotion scores of the customer's segments (qa_platform.emotion.SegmentEmotion),
    # stored apart and attached when the transcript is loaded for the rules; empty if none.
    customer_emotion: list[SegmentEmotion] = field(default_factory=list)

    def by_role(self, role: Role) -> list[Segment]:
        return [s for s in self.segments if s.role == role]

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass(frozen=True, slots=True)
class Span:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(slots=True)
class AudioFeatures:
    """Measurements over the audio (per role where the channel map or diarization says)."""

    duration_s: float
    silence_segments: list[Span] = field(default_factory=list)  # both sides quiet
    longest_silence_s: float = 0.0
    silence_ratio: float = 0.0
    talk_time_s: dict[str, float] = field(default_factory=dict)  # role -> seconds
    # role -> seconds of talk with the short pauses inside it (讲话时长): voiced time with pauses
    # up to workers.features.PHRASE_PAUSE_S bridged; empty on features stored before it existed
    speaking_time_s: dict[str, float] = field(default_factory=dict)
    overlap_s: float = 0.0
    overlap_segments: list[Span] = field(default_factory=list)
    energy_db: dict[str, float] = field(default_factory=dict)  # role/channel -> mean dBFS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AudioFeatures:
        d = dict(d)
        d["silence_segments"] = [Span(**s) for s in d.get("silence_segments", [])]
        d["overlap_segments"] = [Span(**s) for s in d.get("overlap_segments", [])]
        return cls(**d)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Flag:
    """One abnormal-call finding (异常) with its evidence."""

    type: str
    severity: Severity
    role: Role
    start: float
    end: float
    evidence: str  # the message in Chinese (the default language)
    rule_set_version: str = ""
    # The message as a catalogue key and parameters (qa_platform.flags.messages), so a page
    # renders it in the reader's language; empty for flags stored before messages had keys.
    evidence_key: str = ""
    evidence_params: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "severity": str(self.severity),
            "role": str(self.role),
            "start": self.start,
            "end": self.end,
            "evidence": self.evidence,
            "rule_set_version": self.rule_set_version,
            "evidence_key": self.evidence_key,
            "evidence_params": dict(self.evidence_params),
        }
