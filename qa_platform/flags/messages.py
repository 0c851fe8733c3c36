"""Flag names and evidence messages in Chinese and English (异常名称与证据文案).

The texts are data (``qa_platform/data/flag_messages.yaml``): a flag keeps its evidence as a
message key (``<flag>.<reason>``) and parameters, the stored text is the Chinese rendering, and
any page renders the same key in the reader's language with :func:`render`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from qa_platform.domain.errors import Invalid

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
_SEPARATOR = {"zh": "、", "en": ", "}
_CODE_PARAMS = frozenset(
    {"side", "category", "reason", "factors", "day"}
)  # translated through terms


class MessageError(Invalid):
    """A message key or language the catalogue does not have, or a parameter it needs is missing."""


def catalogue_path() -> Path:
    return Path(str(resources.files("qa_platform") / "data" / "flag_messages.yaml"))


@cache
def catalogue() -> Mapping[str, Mapping[str, Mapping[str, str]]]:
    """The sections ``names``, ``evidence`` and ``terms``: key → {zh, en} (read once)."""
    data = yaml.safe_load(catalogue_path().read_text(encoding="utf-8"))
    return {section: dict(data[section]) for section in ("names", "evidence", "terms")}


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise MessageError(
            f"语言必须是 {LANGS} 之一，收到 {lang!r} (language must be one of {LANGS})"
        )
    return lang


def flag_name(flag_type: str, lang: str = DEFAULT_LANG) -> str:
    """The display name of a flag type (the type itself when the catalogue has none)."""
    entry = catalogue()["names"].get(flag_type)
    return entry[_check_lang(lang)] if entry else flag_type


def term(value: str, lang: str = DEFAULT_LANG) -> str:
    """A code word (factor, category, side …) in ``lang``; unknown words are returned as given."""
    entry = catalogue()["terms"].get(value)
    return entry[_check_lang(lang)] if entry else value


def render(key: str, params: Mapping[str, Any], lang: str = DEFAULT_LANG) -> str:
    """The evidence message ``key`` in ``lang`` with ``params`` filled in."""
    entry = catalogue()["evidence"].get(key)
    if entry is None:
        raise MessageError(f"未知的证据文案 {key!r} (unknown evidence message {key!r})")
    values = {
        name: _localise(value, lang) if name in _CODE_PARAMS else value
        for name, value in params.items()
    }
    try:
        return entry[_check_lang(lang)].format(**values)
    except (KeyError, ValueError) as exc:
        raise MessageError(
            f"证据文案 {key!r} 缺少或无法使用参数：{exc} (message {key!r}: bad parameters)"
        ) from None


def _localise(value: Any, lang: str) -> Any:
    if isinstance(value, list | tuple):
        items = [term(str(v), lang) for v in value]
        return _SEPARATOR[lang].join(items) if items else term("none", lang)
    return term(str(value), lang)
