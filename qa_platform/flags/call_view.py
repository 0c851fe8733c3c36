"""A read-only view of one call for the rules: segments by role, normalised text, match times.

Built once per evaluation so that each segment is normalised once and each lexicon runs once
per segment, whatever number of rules use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Transcript
from qa_platform.lexicon import Lexicon, LexiconMatch, load_lexicon
from qa_platform.text import NormalisedText, normalise_with_map

EVIDENCE_CONTEXT = 12  # characters of context either side of a quoted phrase
SPEAKING_GAP_S = 0.5  # a pause longer than this between words ends a stretch of talking


@dataclass(slots=True)
class SegmentView:
    """One transcript segment with its normalised text and word character offsets."""

    segment: Segment
    norm: NormalisedText
    _offsets: list[tuple[int, int] | None] | None = None

    @classmethod
    def of(cls, segment: Segment) -> SegmentView:
        return cls(segment, normalise_with_map(segment.text))

    @property
    def word_offsets(self) -> list[tuple[int, int] | None]:
        """Character span of each word in the segment text (None where a word is not found)."""
        if self._offsets is None:
            self._offsets = _word_offsets(self.segment)
        return self._offsets

    def time_of(self, start: int, end: int) -> tuple[float, float]:
        """Start and end time (s) of original characters ``[start, end)`` of the segment text."""
        seg = self.segment
        times = [
            (w.start, w.end)
            for w, off in zip(seg.words, self.word_offsets, strict=True)
            if off is not None and off[0] < end and start < off[1]
        ]
        if times:
            return min(t[0] for t in times), max(t[1] for t in times)
        n = max(len(seg.text), 1)  # no word timing: interpolate along the segment
        span = seg.end - seg.start
        return seg.start + span * start / n, seg.start + span * end / n

    def context(self, match: LexiconMatch) -> str:
        """The words around a match in their original spelling (… where the text goes on)."""
        text = self.segment.text
        a = max(0, match.original_start - EVIDENCE_CONTEXT)
        b = min(len(text), match.original_end + EVIDENCE_CONTEXT)
        prefix = "…" if a > 0 else ""
        suffix = "…" if b < len(text) else ""
        return f"{prefix}{text[a:b]}{suffix}"

    def evidence(self, match: LexiconMatch) -> str:
        """The matched words in their original spelling with a little context (English form)."""
        return f"“{match.quote}” in “{self.context(match)}”"

    @property
    def duration(self) -> float:
        return max(0.0, self.segment.end - self.segment.start)


def _word_offsets(segment: Segment) -> list[tuple[int, int] | None]:
    offsets: list[tuple[int, int] | None] = []
    cursor = 0
    for word in segment.words:
        token = word.text.strip()
        pos = segment.text.find(token, cursor) if token else -1
        if pos < 0:
            offsets.append(None)
            continue
        offsets.append((pos, pos + len(token)))
        cursor = pos + len(token)
    return offsets


def _union_length(spans: list[tuple[float, float]]) -> float:
    """Total length of the union of ``spans`` (overlaps counted once)."""
    total, reach, previous = 0.0, float("-inf"), float("-inf")
    for start, end in spans:
        if start < previous:  # out of order (overlapping turns): sort, then merge
            return _union_length(sorted(spans))
        previous = start
        if end > reach:
            total += end - (start if start > reach else reach)
            reach = end
    return total


@dataclass(frozen=True, slots=True)
class PhraseHit:
    """A lexicon match placed in time, with the segment it came from."""

    view: SegmentView
    match: LexiconMatch
    start: float
    end: float

    @property
    def role(self) -> Role:
        return self.view.segment.role

    @property
    def evidence(self) -> str:
        return self.view.evidence(self.match)

    @property
    def evidence_params(self) -> dict[str, str]:
        """The matched words and their context, for the ``phrase.match`` message."""
        return {"quote": self.match.quote, "context": self.view.context(self.match)}


@dataclass
class CallView:
    """Everything the rules read about one call."""

    transcript: Transcript | None
    features: AudioFeatures
    _matches: dict[tuple[int, str], list[LexiconMatch]] = field(default_factory=dict)

    @cached_property
    def segments(self) -> list[SegmentView]:
        if self.transcript is None:
            return []
        ordered = sorted(self.transcript.segments, key=lambda s: (s.start, s.end))
        return [SegmentView.of(s) for s in ordered]

    def by_role(self, *roles: Role) -> list[SegmentView]:
        return [v for v in self.segments if v.segment.role in roles]

    @cached_property
    def agent(self) -> list[SegmentView]:
        return self.by_role(Role.AGENT)

    @cached_property
    def human_agent(self) -> list[SegmentView]:
        """The agent side without the bot (智能客服, speaker ``bot`` on a chat): where a bot
        hands over, the person who takes the chat greets and gives the 工号; a chat the bot
        handled alone is read from the bot's own messages."""
        people = [v for v in self.agent if v.segment.speaker != "bot"]
        return people or self.agent

    @cached_property
    def agent_speech_s(self) -> float:
        return sum(v.duration for v in self.agent)

    @cached_property
    def agent_voiced_s(self) -> float:
        """Seconds the agent's voice is active (发声时长), not the wall time of agent turns.

        The voice activity of the agent channel or turns (``talk_time_s['agent']``) when the
        audio features have it, else the agent's words as the ASR timed them (merged where they
        overlap), else the union of agent segments.
        """
        measured = self.features.talk_time_s.get("agent", 0.0)
        if measured > 0:
            return measured
        words = [w for v in self.agent for w in v.segment.words]
        if words:
            return _union_length([(w.start, w.end) for w in words])
        return _union_length([(v.segment.start, v.segment.end) for v in self.agent])

    @cached_property
    def agent_speaking_s(self) -> float:
        """Seconds the agent talks counting the short pauses inside their talk (讲话时长): what
        a speaking rate is heard over. The audio features' ``speaking_time_s['agent']`` (voice
        activity with pauses up to a phrase pause bridged); features stored before that
        measure existed fall back to :attr:`agent_voiced_s`."""
        measured = self.features.speaking_time_s.get("agent", 0.0)
        return measured if measured > 0 else self.agent_voiced_s

    def speaking(
        self, view: SegmentView, gap_s: float = SPEAKING_GAP_S
    ) -> list[tuple[float, float]]:
        """When the speaker of ``view`` is actually talking: its words as the ASR timed them,
        joined across pauses up to ``gap_s``; the whole segment where it has no word timings.
        A segment's own span can run over a long pause (Whisper joins "好吧，那我等电话" and a
        "没有了" ten seconds later into one segment), its words do not."""
        words = [w for w in view.segment.words if w.text.strip() and w.end > w.start]
        if not words:
            return [(view.segment.start, view.segment.end)]
        spans: list[tuple[float, float]] = []
        for w in sorted(words, key=lambda w: w.start):
            if spans and w.start - spans[-1][1] <= gap_s:
                spans[-1] = (spans[-1][0], max(spans[-1][1], w.end))
            else:
                spans.append((w.start, w.end))
        return spans

    def hits(self, lexicon_name: str, views: Sequence[SegmentView]) -> Iterator[PhraseHit]:
        """Every accepted match of a lexicon in the given segments, with times."""
        lexicon = load_lexicon(lexicon_name)
        for view in views:
            for match in self._find(lexicon, view):
                start, end = view.time_of(match.original_start, match.original_end)
                yield PhraseHit(view, match, start, end)

    def _find(self, lexicon: Lexicon, view: SegmentView) -> list[LexiconMatch]:
        key = (id(view), lexicon.name + lexicon.version)
        if key not in self._matches:
            self._matches[key] = lexicon.find(view.norm)
        return self._matches[key]
