"""Lexicon files (词库文件): parsing the maintained phrase lists and loading them, cached.

The file format is described in :mod:`qa_platform.lexicon`.
"""

from __future__ import annotations

import time
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from qa_platform.domain.transcript import Severity
from qa_platform.lexicon.matching import (
    _BOOL_WORDS,
    _DIRECTIVES,
    _FUZZY_WORDS,
    _TERM_FIELDS,
    Lexicon,
    LexiconError,
    Term,
)
from qa_platform.text import normalise


def parse_lexicon(name: str, content: str, source: str = "<string>") -> Lexicon:
    """Build a :class:`Lexicon` from the text of a lexicon file; errors name ``source`` and line."""
    terms: list[Term] = []
    exceptions: list[str] = []
    directives: dict[str, str] = {}
    seen: set[str] = set()
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        where = f"{source}:{number}"
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            key, value = _parse_directive(line, where)
            directives[key] = value
        elif line.startswith("!"):
            exceptions.append(_require_key(line[1:].strip(), where))
        else:
            term = _parse_term(raw, where)
            if term.key in seen:
                raise LexiconError(
                    f"{where}: duplicate term {term.text!r} (normalised {term.key!r})"
                )
            seen.add(term.key)
            terms.append(term)
    return Lexicon(name, terms, exceptions=exceptions, directives=directives, source=source)


def _parse_directive(line: str, where: str) -> tuple[str, str]:
    key, _, value = line[1:].partition("\t")
    key = key.strip()
    if key not in _DIRECTIVES:
        raise LexiconError(f"{where}: unknown directive @{key} (known: {sorted(_DIRECTIVES)})")
    return key, value.strip()


def _require_key(text: str, where: str) -> str:
    if not normalise(text):
        raise LexiconError(f"{where}: entry {text!r} is empty after normalisation")
    return text


def _parse_term(raw: str, where: str) -> Term:
    text, *pairs = [p.strip() for p in raw.strip().split("\t") if p.strip()]
    key = normalise(_require_key(text, where))
    fields: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in _TERM_FIELDS:
            raise LexiconError(f"{where}: bad field {pair!r} (known: {sorted(_TERM_FIELDS)})")
        fields[name] = _field_value(name, value.strip(), where)
    return Term(text=text, key=key, **fields)


def _field_value(name: str, value: str, where: str) -> Any:
    if name == "severity":
        try:
            return Severity(value)
        except ValueError:
            raise LexiconError(
                f"{where}: severity {value!r} is not one of {[str(s) for s in Severity]}"
            ) from None
    if name == "fuzzy":
        if value.lower() not in _FUZZY_WORDS:
            raise LexiconError(f"{where}: fuzzy={value!r} is not one of no|homophone|near")
        return _FUZZY_WORDS[value.lower()]
    if name in {"negatable", "standalone", "number_after"}:
        if value.lower() not in _BOOL_WORDS:
            raise LexiconError(f"{where}: {name}={value!r} is not yes/no")
        return _BOOL_WORDS[value.lower()]
    return value


def lexicon_dir() -> Path:
    """The folder of the maintained lexicon files shipped with the package."""
    return Path(str(resources.files("qa_platform") / "data" / "lexicons"))


def load_lexicon(name: str, directory: Path | str | None = None) -> Lexicon:
    """Load ``<directory>/<name>.txt`` (default: the packaged lexicons).

    Cached per file; an edited file is picked up (its modification time is checked at most once
    a second, so evaluating thousands of calls does not stat the file thousands of times).
    """
    key = (str(directory) if directory is not None else "", name)
    hit = _recent.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[1] < _RECHECK_S:
        return hit[0]
    folder = Path(directory) if directory is not None else lexicon_dir()
    path = folder / f"{name}.txt"
    if not path.is_file():
        raise LexiconError(f"lexicon {name!r} not found: {path} does not exist")
    lexicon = _load_cached(str(path.resolve()), path.stat().st_mtime_ns, name)
    _recent[key] = (lexicon, now)
    return lexicon


_RECHECK_S = 1.0
_recent: dict[tuple[str, str], tuple[Lexicon, float]] = {}


@lru_cache(maxsize=64)
def _load_cached(path: str, _mtime_ns: int, name: str) -> Lexicon:
    return parse_lexicon(name, Path(path).read_text(encoding="utf-8"), source=path)
