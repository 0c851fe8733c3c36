"""Matching of a lexicon (词库) in normalised text: exact, by homophone or near-homophone."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

from qa_platform import phonetic
from qa_platform.domain.errors import Invalid
from qa_platform.domain.transcript import Severity
from qa_platform.text import NormalisedText, normalise, normalise_with_map

CLAUSE_BREAKS = frozenset("，,。.！!？?；;：:、\n")
SENTENCE_BREAKS = frozenset("。.！!？?；;\n")
_OPENING_QUOTES = "「『“‘《〈"
_CLOSING_QUOTES = "」』”’》〉"
_ADDRESSEE_MARKERS = frozenset("跟和对给同")
_TERM_FIELDS = {
    "severity",
    "category",
    "negatable",
    "standalone",
    "factor",
    "fuzzy",
    "number_after",
}
FUZZY_LEVELS = ("none", "homophone", "near")  # how far matching by sound goes (see above)
_VIA = ("exact", "homophone", "near")  # how a match was found, best first
_FUZZY_WORDS = {
    **dict.fromkeys(("no", "false", "0", "none"), "none"),
    **dict.fromkeys(("yes", "true", "near"), "near"),
    "homophone": "homophone",
}
_BOOL_WORDS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
_DIRECTIVES = {
    "negators",  # | separated words that negate the following term
    "post_negators",  # | separated words that negate the preceding term
    "negate_window",  # max characters between a multi-character negator and the term
    "quote_cues",  # | separated words that introduce reported speech
    "quote_window",  # max characters between a quotation cue and the term
    "fuzzy",  # none | homophone | near: matching by sound for every entry (default none)
    "description",
}


class LexiconError(Invalid):
    """A lexicon file is malformed; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Term:
    """One lexicon entry as written, its normalised key and its fields."""

    text: str
    key: str
    severity: Severity | None = None
    category: str = ""
    negatable: bool = True
    standalone: bool = False
    factor: str = ""
    fuzzy: str | None = None  # none | homophone | near; None: the lexicon's @fuzzy
    number_after: bool = False  # counts only when a number follows (rules read it)


@dataclass(frozen=True, slots=True)
class LexiconMatch:
    """A term found in a text: normalised span, original span and the original words."""

    term: Term
    start: int
    end: int
    original_start: int
    original_end: int
    quote: str
    via: str = "exact"  # exact | homophone | near


@dataclass(frozen=True, slots=True)
class _Hit:
    kind: str  # term | exception | negator | post_negator | quote_cue
    start: int
    end: int
    index: int = -1  # term index for kind == "term"
    via: int = 0  # index into _VIA


@dataclass(slots=True)
class _Scan:
    """Everything the automaton found in one normalised text, by kind."""

    text: NormalisedText
    terms: list[_Hit] = field(default_factory=list)
    exceptions: list[_Hit] = field(default_factory=list)
    negators: list[_Hit] = field(default_factory=list)
    post_negators: list[_Hit] = field(default_factory=list)
    quote_cues: list[_Hit] = field(default_factory=list)


class Lexicon:
    """A named, versioned phrase list with its matching rules."""

    def __init__(
        self,
        name: str,
        terms: Iterable[Term],
        *,
        exceptions: Iterable[str] = (),
        directives: Mapping[str, str] | None = None,
        source: str = "",
    ) -> None:
        self.name = name
        self.terms: tuple[Term, ...] = tuple(terms)
        self.exceptions = tuple(e for e in (normalise(x) for x in exceptions) if e)
        self.source = source
        d = dict(directives or {})
        self.negators = _split_words(d.get("negators", ""))
        self.post_negators = _split_words(d.get("post_negators", ""))
        self.quote_cues = _split_words(d.get("quote_cues", ""))
        self.negate_window = _int_directive(d, "negate_window", 3, source)
        self.quote_window = _int_directive(d, "quote_window", 10, source)
        self.description = d.get("description", "")
        self.fuzzy = _fuzzy_directive(d, source)
        self.version = _content_hash(self.terms, self.exceptions, d)
        self._automaton = self._build()
        self._sound = _SoundIndex(self)

    def __repr__(self) -> str:
        return f"Lexicon({self.name!r}, {len(self.terms)} terms, version={self.version})"

    def _build(self) -> Any:
        automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[str, int]]] = {}
        for i, term in enumerate(self.terms):
            entries.setdefault(term.key, []).append(("term", i))
        for kind, words in (
            ("exception", self.exceptions),
            ("negator", self.negators),
            ("post_negator", self.post_negators),
            ("quote_cue", self.quote_cues),
        ):
            for word in words:
                entries.setdefault(word, []).append((kind, -1))
        for key, value in entries.items():
            automaton.add_word(key, (len(key), tuple(value)))
        if entries:
            automaton.make_automaton()
        return automaton

    def find(self, text: str | NormalisedText) -> list[LexiconMatch]:
        """Every accepted term occurrence in ``text``, left to right, longest first, no overlaps."""
        scan = self._scan(text if isinstance(text, NormalisedText) else normalise_with_map(text))
        accepted: list[LexiconMatch] = []
        negated_end = -1
        for hit in _longest_non_overlapping(scan.terms):
            term = self.terms[hit.index]
            if not self._plausible(scan, hit, term):
                continue
            if term.negatable and self._negated(scan, hit, negated_end):
                negated_end = hit.end
                continue
            if self._reported(scan, hit, accepted):
                continue
            accepted.append(_to_match(scan.text, hit, term))
        return accepted

    def contains(self, text: str | NormalisedText) -> bool:
        """Whether ``text`` holds at least one accepted term."""
        return bool(self.find(text))

    def fuzzy_level(self, term: Term) -> str:
        """How far ``term`` matches by sound (its own ``fuzzy=`` or the lexicon's ``@fuzzy``)."""
        return term.fuzzy if term.fuzzy is not None else self.fuzzy

    def _scan(self, text: NormalisedText) -> _Scan:
        scan = _Scan(text)
        if not len(self._automaton):
            return scan
        for end_index, (length, entries) in self._automaton.iter(text.text):
            start, end = end_index - length + 1, end_index + 1
            for kind, index in entries:
                getattr(scan, kind + "s").append(_Hit(kind, start, end, index))
        if self._sound.active:
            self._sound.scan(scan)
        return scan

    def _plausible(self, scan: _Scan, hit: _Hit, term: Term) -> bool:
        if any(e.start <= hit.start and hit.end <= e.end for e in scan.exceptions):
            return False
        if term.key.isascii() and not _latin_boundaries(scan.text.text, hit.start, hit.end):
            return False
        return not term.standalone or _is_standalone(scan.text, hit)

    def _negated(self, scan: _Scan, hit: _Hit, negated_end: int) -> bool:
        for neg in scan.negators:
            gap = hit.start - neg.end
            limit = 0 if neg.end - neg.start == 1 else self.negate_window
            if (
                0 <= gap <= limit
                and not _is_a_not_a_question(scan.text.text, neg)
                and not _crosses(scan.text, neg.end, hit.start, CLAUSE_BREAKS)
            ):
                return True
        for post in scan.post_negators:
            gap = post.start - hit.end
            if 0 <= gap <= self.negate_window and not _crosses(
                scan.text, hit.end, post.start, CLAUSE_BREAKS
            ):
                return True
        # Negation carries over the rest of its clause: 我不会去监管那边投诉的.
        return 0 <= negated_end <= hit.start and not _crosses(
            scan.text, negated_end, hit.start, CLAUSE_BREAKS
        )

    def _reported(self, scan: _Scan, hit: _Hit, accepted: list[LexiconMatch]) -> bool:
        if not self.quote_cues:
            return False
        if _inside_quotes(scan.text, hit):
            return True
        previous_end = accepted[-1].end if accepted else 0
        for cue in scan.quote_cues:
            gap = hit.start - cue.end
            if (
                0 <= gap <= self.quote_window
                and cue.start >= previous_end
                and not _addressed(scan.text.text, cue)
                and not _crosses(scan.text, cue.end, hit.start, SENTENCE_BREAKS)
            ):
                return True
        return False


def _is_a_not_a_question(text: str, neg: _Hit) -> bool:
    """是不是 / 会不会 / 有没有: an A-not-A question, not a negation (你是不是智障)."""
    before = text[neg.start - 1] if neg.start > 0 else ""
    after = text[neg.start + 1] if neg.start + 1 < len(text) else ""
    return text[neg.start] in "不没" and before != "" and before == after


def _addressed(text: str, cue: _Hit) -> bool:
    """跟你说 / 对您说: the speaker telling the listener, not reporting what they said."""
    return cue.start > 0 and text[cue.start - 1] in _ADDRESSEE_MARKERS


def _longest_non_overlapping(hits: list[_Hit]) -> list[_Hit]:
    """Left to right, longest first, no overlaps; written matches before matches by sound.

    A match by sound never cuts into a written match; it replaces written matches only when
    it covers them whole and is longer (预流手机号 heard for 预留手机号 covers the written 手机号).
    """
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if hit.via == 0 and (not kept or hit.start >= kept[-1].end):
            kept.append(hit)
    if len(kept) == len(hits):
        return kept
    for hit in sorted(hits, key=lambda h: (h.via, h.start, -(h.end - h.start))):
        if not hit.via:
            continue
        overlapping = [k for k in kept if k.start < hit.end and hit.start < k.end]
        if all(_covers(hit, k) and not k.via for k in overlapping):
            kept = [k for k in kept if k not in overlapping] + [hit]
    return sorted(kept, key=lambda h: h.start)


def _covers(hit: _Hit, other: _Hit) -> bool:
    return (
        hit.start <= other.start
        and other.end <= hit.end
        and hit.end - hit.start > other.end - other.start
    )


def _to_match(text: NormalisedText, hit: _Hit, term: Term) -> LexiconMatch:
    a, b = text.original_span(hit.start, hit.end)
    return LexiconMatch(term, hit.start, hit.end, a, b, text.original[a:b], _VIA[hit.via])


def _latin_boundaries(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return not (_is_latin_alnum(before) or _is_latin_alnum(after))


def _is_latin_alnum(ch: str) -> bool:
    return bool(ch) and ch.isascii() and ch.isalnum()


def _is_standalone(text: NormalisedText, hit: _Hit) -> bool:
    """Whether the term is a clause of its own: nearest meaningful neighbours are breaks or edges."""
    a, b = text.original_span(hit.start, hit.end)
    before = _meaningful(reversed(text.original[:a]))
    after = _meaningful(iter(text.original[b:]))
    return before in ("", *CLAUSE_BREAKS) and after in ("", *CLAUSE_BREAKS)


def _meaningful(chars: Iterator[str]) -> str:
    """The first character that is a clause break or survives normalisation ("" at the edge)."""
    for ch in chars:
        if ch in CLAUSE_BREAKS or normalise(ch):
            return ch
    return ""


def _crosses(text: NormalisedText, start: int, end: int, breaks: frozenset[str]) -> bool:
    """Whether the original text between normalised positions ``start`` and ``end`` holds a break."""
    if start <= 0 or end >= len(text.text) + 1 or start > end:
        return False
    a = text.source_index[start - 1] + 1
    b = text.source_index[end] if end < len(text.text) else len(text.original)
    return any(ch in breaks for ch in text.original[a:b])


def _inside_quotes(text: NormalisedText, hit: _Hit) -> bool:
    before = text.original[: text.source_index[hit.start]]
    depth = sum(before.count(q) for q in _OPENING_QUOTES) - sum(
        before.count(q) for q in _CLOSING_QUOTES
    )
    return depth > 0 or before.count('"') % 2 == 1


class _SoundIndex:
    """The entries of one lexicon that also match by sound, compiled for scanning.

    Texts are scanned as strings of syllable codes (one code per character). Homophones of an
    entry are its own code string; near-homophones of entries of up to 4 syllables are spelled
    out (every allowed variant of one syllable: a handful for near sounds, a few dozen for
    similar ones), so one Aho-Corasick pass finds them all. Longer entries allow any one
    syllable to differ: their first two or last two syllables are then exact, and those
    bigrams anchor a check of the whole entry.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        self.terms = lexicon.terms
        self.automaton: Any = None
        self.long: dict[int, str] = {}  # entries of 5+ syllables: their syllable codes
        entries: dict[str, list[tuple[str, int, int]]] = {}
        for i, term in enumerate(lexicon.terms):
            level = lexicon.fuzzy_level(term)
            sounds = _sounds(term.key) if level != "none" else None
            if sounds is None:
                continue
            codes = phonetic.sound_codes(term.key)
            entries.setdefault(codes, []).append(("term", i, 1))
            if level != "near":
                continue
            farthest = _NEAR_ALLOWANCE.get(len(sounds))
            if farthest is None:
                self.long[i] = codes
                for offset in (0, len(sounds) - 2):
                    entries.setdefault(codes[offset : offset + 2], []).append(("anchor", i, offset))
                continue
            for hole, syllable in enumerate(sounds):
                for variant in phonetic.variants(syllable, farthest):
                    spelled = codes[:hole] + phonetic.code_of(variant) + codes[hole + 1 :]
                    entries.setdefault(spelled, []).append(("term", i, 2))
        if entries and lexicon.fuzzy != "none":
            for exception in lexicon.exceptions:
                if _sounds(exception) is not None:
                    code = phonetic.sound_codes(exception)
                    entries.setdefault(code, []).append(("exception", -1, 1))
        if entries:
            self.automaton = ahocorasick.Automaton()
            for key, value in entries.items():
                self.automaton.add_word(key, (len(key), tuple(value)))
            self.automaton.make_automaton()

    @property
    def active(self) -> bool:
        return self.automaton is not None

    def scan(self, scan: _Scan) -> None:
        """Add the matches by sound of ``scan.text`` to ``scan`` (exact ones are already there)."""
        text = scan.text.text
        codes = phonetic.sound_codes(text)
        anchored: set[tuple[int, int]] = set()
        for end_index, (length, entries) in self.automaton.iter(codes):
            start, end = end_index - length + 1, end_index + 1
            for kind, index, via in entries:
                if kind == "exception":
                    scan.exceptions.append(_Hit(kind, start, end))
                elif kind == "anchor":
                    anchored.add((index, start - via))
                elif text[start:end] != self.terms[index].key:
                    scan.terms.append(_Hit(kind, start, end, index, via=via))
        for index, start in sorted(anchored):
            entry = self.long[index]
            if _one_off(entry, codes, start):
                scan.terms.append(_Hit("term", start, start + len(entry), index, via=2))


def _sounds(key: str) -> tuple[phonetic.Syllable, ...] | None:
    """The syllables of an entry that may match by sound: two or more Chinese characters."""
    if len(key) < 2:
        return None
    sounds = tuple(s for s in phonetic.syllables(key) if s is not None)
    return sounds if len(sounds) == len(key) else None


#: The farthest one differing syllable may sound, by the entry's number of syllables; longer
#: entries allow any one syllable.
_NEAR_ALLOWANCE = {2: phonetic.Sound.NEAR, 3: phonetic.Sound.NEAR, 4: phonetic.Sound.SIMILAR}


def _one_off(entry: str, codes: str, start: int) -> bool:
    """Whether exactly one syllable code of ``codes`` from ``start`` differs from ``entry``'s.

    None differing is a homophone (found as such); the differing one must be a syllable.
    """
    end = start + len(entry)
    if start < 0 or end > len(codes):
        return False
    differing = [got for want, got in zip(entry, codes[start:end], strict=True) if want != got]
    return len(differing) == 1 and differing[0] != "\x00"


def _fuzzy_directive(d: Mapping[str, str], source: str) -> str:
    raw = d.get("fuzzy", "none").strip().lower()
    if raw not in FUZZY_LEVELS:
        raise LexiconError(f"{source}: @fuzzy must be one of {FUZZY_LEVELS}, got {raw!r}")
    return raw


def _split_words(raw: str) -> tuple[str, ...]:
    return tuple(w for w in (normalise(x) for x in raw.split("|")) if w)


def _int_directive(d: Mapping[str, str], key: str, default: int, source: str) -> int:
    raw = d.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LexiconError(f"{source}: @{key} must be an integer, got {raw!r}") from None
    if value < 0:
        raise LexiconError(f"{source}: @{key} must not be negative, got {value}")
    return value


def _content_hash(
    terms: tuple[Term, ...], exceptions: tuple[str, ...], d: Mapping[str, str]
) -> str:
    digest = hashlib.sha256()
    for item in (
        [repr(t) for t in terms] + list(exceptions) + sorted(f"{k}={v}" for k, v in d.items())
    ):
        digest.update(item.encode("utf-8") + b"\n")
    return digest.hexdigest()[:12]
