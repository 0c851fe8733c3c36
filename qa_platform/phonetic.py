"""Tone-insensitive pinyin (拼音) of normalised text, for matching what the ASR misheard.

Whisper writes a word it did not know as a homophone or a near-homophone: 工号 comes out as
公号, 功耗 (same syllables gong hao) or 工后 (gong hou). Phrase matching therefore also compares
syllables. Each Chinese character gets one toneless syllable (its most common reading, the same
function for lexicon entries and transcripts, so both sides agree); every other character gets
no syllable and never matches by sound.

Two syllables are *near* when they are equal after folding the confusions of Mandarin speakers
and of the ASR (模糊音: z/zh, c/ch, s/sh, n/l, l/r, f/h; an/ang, en/eng, in/ing, ian/iang,
uan/uang, ao/ou) and *similar* when they share their initial or their final.
pypinyin is imported on first use (no work at import time).
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from enum import IntEnum
from functools import cache, lru_cache
from typing import Any

_INITIAL_FOLD = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "r": "l", "f": "h"}
_FINAL_FOLD = {"ang": "an", "eng": "en", "ing": "in", "iang": "ian", "uang": "uan", "ou": "ao"}


class Sound(IntEnum):
    """How close two syllables sound (lower is closer)."""

    SAME = 0  # toneless pinyin equal: a homophone
    NEAR = 1  # equal after folding the confusable initials and finals
    SIMILAR = 2  # same initial or same final
    OTHER = 3


@dataclass(frozen=True, slots=True)
class Syllable:
    """One toneless syllable split into initial and final (``gong`` = ``g`` + ``ong``)."""

    text: str
    initial: str
    final: str

    @property
    def folded(self) -> tuple[str, str]:
        return _INITIAL_FOLD.get(self.initial, self.initial), _FINAL_FOLD.get(
            self.final, self.final
        )


@cache
def _pypinyin() -> Any:
    import pypinyin  # imported lazily: loading its dictionaries takes a fraction of a second

    return pypinyin


def is_hanzi(ch: str) -> bool:
    """Whether ``ch`` is a CJK unified ideograph (the characters that have a syllable)."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


_INITIALS = ("zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcsyw")  # y, w count as initials (非严格)


@lru_cache(maxsize=1024)
def split(text: str) -> Syllable:
    """A toneless syllable split into initial and final (``zhuang`` = ``zh`` + ``uang``)."""
    for initial in _INITIALS:
        if text.startswith(initial) and len(text) > len(initial):
            return Syllable(text, initial, text[len(initial) :])
    return Syllable(text, "", text)


@lru_cache(maxsize=65536)
def syllable_of(ch: str) -> Syllable | None:
    """The toneless syllable of one character, None for anything that is not a Chinese character."""
    if not is_hanzi(ch):
        return None
    p = _pypinyin()
    text = p.lazy_pinyin(ch, style=p.Style.NORMAL, errors="ignore")
    if not text or not text[0].isascii() or not text[0].isalpha():
        return None
    return split(text[0])


@cache
def inventory() -> tuple[Syllable, ...]:
    """Every toneless syllable pypinyin knows (about 420; ü written v as in ``NORMAL`` style)."""
    from pypinyin.pinyin_dict import pinyin_dict

    found = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            bare = unicodedata.normalize("NFD", reading.replace("ü", "v"))
            found.add("".join(c for c in bare if not unicodedata.combining(c)))
    return tuple(split(t) for t in sorted(found) if t.isascii() and t.isalpha())


@lru_cache(maxsize=4096)
def variants(syllable: Syllable, farthest: Sound) -> tuple[Syllable, ...]:
    """The other syllables that sound at most ``farthest`` from ``syllable`` (not itself)."""
    return tuple(
        s for s in inventory() if s.text != syllable.text and compare(s, syllable) <= farthest
    )


@lru_cache(maxsize=8192)
def syllables(text: str) -> tuple[Syllable | None, ...]:
    """One syllable (or None) per character of an already normalised text."""
    return tuple(syllable_of(ch) for ch in text)


@lru_cache(maxsize=65536)
def compare(a: Syllable, b: Syllable) -> Sound:
    """How close syllable ``a`` sounds to syllable ``b``."""
    if a.text == b.text:
        return Sound.SAME
    if a.folded == b.folded:
        return Sound.NEAR
    if (a.initial and a.initial == b.initial) or a.final == b.final:
        return Sound.SIMILAR
    return Sound.OTHER


_CODE_BASE = 0xF0000  # a private-use plane: one code point per distinct syllable
_codes: dict[str, str] = {}
_codes_lock = threading.Lock()  # two threads must never give two syllables one code


def code_of(syllable: Syllable | None) -> str:
    """A single character standing for ``syllable`` (``\\x00`` for a character without one)."""
    if syllable is None:
        return "\x00"
    code = _codes.get(syllable.text)
    if code is None:
        with _codes_lock:
            code = _codes.setdefault(syllable.text, chr(_CODE_BASE + len(_codes)))
    return code


@lru_cache(maxsize=8192)
def sound_codes(text: str) -> str:
    """``text`` with each character replaced by the code of its syllable (same length).

    Homophones get the same code string, so an Aho-Corasick automaton over codes finds them.
    """
    return "".join(code_of(s) for s in syllables(text))
