"""Text uploaded through forms (sampling plans, scorecards as YAML) parsed into plain data."""

from __future__ import annotations

from typing import Any

from qa_platform import safe_yaml
from qa_platform.domain.errors import Invalid


class YamlInputError(Invalid):
    """Uploaded YAML is not a mapping or cannot be parsed."""


def yaml_mapping(text: str, what: str) -> dict[str, Any]:
    """The mapping a YAML upload holds; the error names ``what`` and the problem."""
    try:
        data = safe_yaml.load(text, what)
    except safe_yaml.UnsafeYaml as exc:
        raise YamlInputError(str(exc)) from None
    if not isinstance(data, dict):
        raise YamlInputError(f"{what}: expected a mapping of fields, got {type(data).__name__}")
    return data


def seed_field(raw: str | None) -> int | None:
    """A sampling seed from a form: empty → None (a fresh one), else a non-negative integer."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) >= 2**63:
        raise YamlInputError(f"seed {text[:40]!r} must be a whole number from 0 to 2**63-1")
    return int(text)
