"""The one YAML loader for text from outside (uploads, CLI files, configuration files).

``yaml.safe_load`` builds no Python objects but still expands aliases: a 415-byte document with
aliases six deep becomes megabytes (a "billion laughs" bomb). ``load`` refuses, before anything
is built: text over ``MAX_BYTES``, any anchor or alias, nesting deeper than ``MAX_DEPTH``, and
explicit tags (``!!binary``, ``!!python/...``); what is left is plain scalars, lists and maps.
"""

from __future__ import annotations

from typing import Any

import yaml

from qa_platform.domain.errors import Invalid

MAX_BYTES = 256 * 1024
MAX_DEPTH = 20


class UnsafeYaml(Invalid):
    """YAML that is too large, too deep, uses anchors/aliases or tags, or does not parse."""


def load(text: str | bytes, what: str = "YAML") -> Any:
    """Parse ``text`` as plain YAML within the bounds above; errors name ``what``."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_BYTES:
        raise UnsafeYaml(f"{what}: larger than {MAX_BYTES // 1024} KiB")
    source = raw.decode("utf-8", errors="strict") if isinstance(text, bytes) else text
    try:
        _check_events(source, what)
        return yaml.load(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise UnsafeYaml(f"{what}: not valid YAML ({exc})") from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer of 5 000 digits
        raise UnsafeYaml(f"{what}: a value cannot be read ({str(exc)[:100]})") from None


def _check_events(source: str, what: str) -> None:
    depth = 0
    for event in yaml.parse(source, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise UnsafeYaml(f"{what}: aliases (*name) are not allowed")
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            raise UnsafeYaml(f"{what}: anchors (&name) are not allowed")
        if isinstance(event, yaml.ScalarEvent):
            if event.tag is not None and not event.implicit[0] and not event.implicit[1]:
                raise UnsafeYaml(f"{what}: tags ({event.tag}) are not allowed")
        if isinstance(event, yaml.CollectionStartEvent):
            if event.tag is not None and not event.implicit:
                raise UnsafeYaml(f"{what}: tags ({event.tag}) are not allowed")
            depth += 1
            if depth > MAX_DEPTH:
                raise UnsafeYaml(f"{what}: nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
