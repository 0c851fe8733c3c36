"""Translations (界面语言): catalogs are data (``web/i18n/<lang>.yaml``); Chinese by default."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import g, request

from qa_platform.flags import messages

LANGS = ("zh", "en")
DEFAULT = "zh"
COOKIE = "qa_lang"
_DIR = Path(__file__).with_name("i18n")


@cache
def catalog(lang: str) -> dict[str, str]:
    """The flat ``key → text`` catalog of ``lang`` (read once per process)."""
    data = yaml.safe_load((_DIR / f"{lang}.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def current_lang() -> str:
    """The language of this request: the user's cookie choice, else Chinese."""
    lang = getattr(g, "lang", None)
    if lang is None:
        lang = request.cookies.get(COOKIE, DEFAULT)
        g.lang = lang = lang if lang in LANGS else DEFAULT
    return lang


def gettext(key: str, **values: object) -> str:
    """Translate ``key`` into the request's language; ``{name}`` placeholders are filled."""
    text = catalog(current_lang()).get(key) or catalog(DEFAULT).get(key) or key
    return text.format(**values) if values else text


def flag_evidence(flag: Mapping[str, Any]) -> str:
    """A stored flag's evidence in the request's language (its stored Chinese text when the
    flag predates message keys or the catalogue no longer has its key)."""
    key = flag.get("evidence_key")
    if not key:
        return str(flag.get("evidence", ""))
    try:
        return messages.render(key, flag.get("evidence_params") or {}, current_lang())
    except messages.MessageError:
        return str(flag.get("evidence", ""))
