"""Form parsing for the evaluation pages: scorecard fields, review actions, comment times."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from qa_platform.domain.errors import Invalid

REVIEW_ACTIONS = ("approve", "publish", "return")


class FormError(Invalid):
    """A form field is missing or malformed; the message names it."""


def parse_scores(card: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Scorecard form fields → ``{code: points | "na" | violated}``; blanks are left out."""
    scores: dict[str, Any] = {}
    for section in card["sections"]:
        for item in section["items"]:
            code = item["code"]
            if item.get("red_line"):
                scores[code] = form.get(f"violated_{code}") in ("1", "on", "true")
            elif form.get(f"na_{code}") in ("1", "on", "true"):
                scores[code] = "na"
            elif raw := (form.get(f"score_{code}") or "").strip():
                value = finite_number(raw, f"score_{code}")
                points = float(item.get("points") or 0)
                if not 0 <= value <= points:
                    raise FormError.of("form.score_range", code=code, raw=repr(raw), points=points)
                scores[code] = value
    return scores


MAX_NUMBER_CHARS = 32  # longer numeric text is refused before float() sees it


def finite_number(raw: str | None, field: str) -> float:
    """A finite decimal number from a form field (no NaN, no infinity, no 5 000 digits)."""
    text = (raw or "").strip()
    if len(text) > MAX_NUMBER_CHARS:
        raise FormError.of("form.number_too_long", field=repr(field))
    try:
        value = float(text)
    except ValueError:
        raise FormError.of("form.not_a_number", field=repr(field), text=repr(text)) from None
    if not math.isfinite(value):
        raise FormError.of("form.not_finite", field=repr(field), text=repr(text))
    return value


def parse_review_action(raw: str) -> str:
    """The supervisor's review button (复核): approve, publish or return."""
    if raw not in REVIEW_ACTIONS:
        raise FormError.of("form.review_action", raw=repr(raw), allowed=str(sorted(REVIEW_ACTIONS)))
    return raw


def seconds(raw: str | None) -> float:
    """The playback time a comment is pinned to: finite and not negative (the domain checks
    the upper bound, the call's duration)."""
    try:
        value = finite_number(raw, "at_s")
    except FormError:
        raise FormError.of("form.time") from None
    if value < 0:
        raise FormError.of("form.time_negative")
    return value
