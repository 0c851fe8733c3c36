"""Texts of the errors a user can cause, in Chinese and English (错误提示文案).

The texts are data (``qa_platform/data/error_messages.yaml``, section ``errors``: key →
{zh, en}; section ``terms``: code words such as states, actions and roles → {zh, en}). An error
built with :meth:`qa_platform.domain.errors.QaError.of` keeps its key and parameters, its
``str()`` is the English text (logs, traces), and every page or command shows
:meth:`~qa_platform.domain.errors.QaError.localized` in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
_TERM_PARAMS = frozenset({"action", "state", "role", "states", "decision", "kind"})
_SEPARATOR = {"zh": "、", "en": ", "}


@cache
def catalogue() -> Mapping[str, Mapping[str, Mapping[str, str]]]:
    """The sections ``errors`` and ``terms`` (read once per process)."""
    path = resources.files("qa_platform") / "data" / "error_messages.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {section: dict(data[section]) for section in ("errors", "terms")}


def has(key: str) -> bool:
    return key in catalogue()["errors"]


def term(value: str, lang: str) -> str:
    """A code word in ``lang``; a word the catalogue does not know is returned as given."""
    entry = catalogue()["terms"].get(value)
    return entry.get(lang, value) if entry else value


def render(key: str, params: Mapping[str, Any], lang: str) -> str:
    """The message ``key`` in ``lang`` (Chinese for an unknown language) with ``params``.

    Parameters named like code words (``action``, ``state``, ``role`` …) are translated through
    ``terms``; a list is joined; a nested error (an ``Exception``) is rendered in ``lang`` too.
    """
    lang = lang if lang in LANGS else DEFAULT_LANG
    entry = catalogue()["errors"][key]
    values = {name: _value(name, value, lang) for name, value in params.items()}
    return entry[lang].format(**values)


def _value(name: str, value: Any, lang: str) -> Any:
    localized = getattr(value, "localized", None)
    if callable(localized):
        return localized(lang)
    if isinstance(value, list | tuple | set | frozenset):
        items = [term(str(v), lang) if name in _TERM_PARAMS else str(v) for v in value]
        return _SEPARATOR[lang].join(items)
    if name in _TERM_PARAMS and isinstance(value, str):
        return term(value, lang)
    return value
