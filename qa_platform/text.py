"""Text normalisation (文本归一化) for phrase matching over transcripts.

``normalise`` turns any spelling of a phrase into one canonical form so that a lexicon term
matches however the ASR or a person wrote it: Traditional → Simplified Chinese (OpenCC
``t2s``), full-width → half-width and compatibility forms folded (NFKC), Latin lower-cased,
and every space, punctuation mark, symbol and control character removed, and a number spoken
digit by digit in Chinese numerals (三个或以上: 幺二三七八, 一二三七八) written in Arabic digits,
as the ASR writes it half the time (12378), so that one lexicon entry covers both.

``normalise_with_map`` gives the same text plus, for each character of it, the index of the
character of the original string it came from, so evidence can quote the original words.
Pure functions; the OpenCC converter is built once, on first use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

_REMOVED_CATEGORIES = ("P", "Z", "S", "C")  # punctuation, separators, symbols, control/other
_SPOKEN_DIGITS = "〇零一二三四五六七八九幺两"
_SPOKEN_DIGIT_RUN = re.compile(f"[{_SPOKEN_DIGITS}]{{3,}}")
_DIGIT_OF = str.maketrans(_SPOKEN_DIGITS, "0012345678912")


def _digits(text: str) -> str:
    """Runs of three or more spoken digits as Arabic digits, one for one (length kept)."""
    return _SPOKEN_DIGIT_RUN.sub(lambda m: m.group().translate(_DIGIT_OF), text)


@cache
def _converter() -> Any:
    """The OpenCC Traditional→Simplified converter (built once per process)."""
    import opencc  # opencc-python-reimplemented; imported lazily: no work at import time

    return opencc.OpenCC("t2s")


def _is_removed(ch: str) -> bool:
    return unicodedata.category(ch)[0] in _REMOVED_CATEGORIES


@cache
def _removal_table() -> dict[int, None]:
    """str.translate table deleting every BMP character in a removed category."""
    return {cp: None for cp in range(0x10000) if _is_removed(chr(cp))}


def _strip(text: str) -> str:
    stripped = text.translate(_removal_table())
    if stripped and max(stripped) > "\uffff":  # astral characters: check them one by one
        stripped = "".join(ch for ch in stripped if not _is_removed(ch))
    return stripped


@cache
def _traditional_chars() -> frozenset[str] | None:
    """Characters whose presence lets OpenCC ``t2s`` change a text; None when unreadable.

    Every changing dictionary key holds at least one of them, so text without any is already
    Simplified and the (slow) converter is skipped.
    """
    try:
        characters = _read_ts_dictionary("TSCharacters.txt")
        phrases = _read_ts_dictionary("TSPhrases.txt")
    except OSError:
        return None
    triggers = {key for key, value in characters if key != value}
    for key, value in phrases:
        if key != value and triggers.isdisjoint(key):
            differing = {k for k, v in zip(key, value, strict=False) if k != v}
            triggers.update(differing if len(key) == len(value) else set(key))
    return frozenset(triggers)


def _read_ts_dictionary(name: str) -> list[tuple[str, str]]:
    import opencc

    path = Path(opencc.__file__).parent / "dictionary" / name
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        rows.append((key, values.split(" ")[0]))
    return rows


def _to_simplified(text: str) -> str:
    triggers = _traditional_chars()
    if not text or (triggers is not None and triggers.isdisjoint(text)):
        return text
    out = _converter().convert(text)
    for _ in range(3):  # OpenCC's t2s is not closed under itself: 薴 → 苧 → 苎
        again = _converter().convert(out)
        if again == out:
            break
        out = again
    return out


def normalise(text: str) -> str:
    """Canonical form of ``text`` for matching (Simplified, half-width, lower-case, no spaces or punctuation)."""
    if not isinstance(text, str):
        raise TypeError(f"normalise() expects str, got {type(text).__name__}")
    folded = unicodedata.normalize("NFKC", text).lower()
    return _digits(_to_simplified(_strip(folded)))


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return _strip(unicodedata.normalize("NFKC", ch).lower())


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """Normalised text with, per character, the index of its source character in ``original``."""

    original: str
    text: str
    source_index: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` covering normalised ``[start, end)`` (end exclusive)."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside normalised text of {len(self.text)}")
        return self.source_index[start], self.source_index[end - 1] + 1

    def quote(self, start: int, end: int) -> str:
        """The original words behind normalised ``[start, end)``."""
        a, b = self.original_span(start, end)
        return self.original[a:b]


def normalise_with_map(text: str) -> NormalisedText:
    """Like :func:`normalise`, keeping an index map back to the original string."""
    if not isinstance(text, str):
        raise TypeError(f"normalise_with_map() expects str, got {type(text).__name__}")
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for out in _fold_char(ch):
            chars.append(out)
            index.append(i)
    folded = "".join(chars)
    simplified = _to_simplified(folded)
    if len(simplified) != len(folded):  # a phrase rule changed the length: go char by char
        simplified, index = _simplify_per_char(chars, index)
    return NormalisedText(text, _digits(simplified), tuple(index))


def _simplify_per_char(chars: list[str], index: list[int]) -> tuple[str, list[int]]:
    out: list[str] = []
    out_index: list[int] = []
    for ch, i in zip(chars, index, strict=True):
        converted = _to_simplified(ch)
        out.append(converted)
        out_index.extend([i] * len(converted))
    return "".join(out), out_index
