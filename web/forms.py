"""Form parsing for the evaluation pages: scorecard fields, review actions, comment times."""

from __future__ import annotations

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
                try:
                    scores[code] = float(raw)
                except ValueError:
                    raise FormError(f"item {code}: {raw!r} is not a number") from None
    return scores


def parse_review_action(raw: str) -> str:
    """The supervisor's review button (复核): approve, publish or return."""
    if raw not in REVIEW_ACTIONS:
        raise FormError(f"action {raw!r} must be one of {sorted(REVIEW_ACTIONS)}")
    return raw


def seconds(raw: str | None) -> float:
    """The playback time a comment is pinned to."""
    try:
        return float(raw or "")
    except ValueError:
        raise FormError("field 'at_s' must be a time in seconds") from None
