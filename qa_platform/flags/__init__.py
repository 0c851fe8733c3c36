"""Abnormal-call detection and script compliance (异常监控、话术合规).

``evaluate(transcript, features, rule_set, direction=..., business_type=...)`` is the single
entry point: pure, no torch, no Flask, no database, so any node can re-run it when the rules
change. Rules live in :mod:`qa_platform.flags.catalogue`, thresholds in a versioned
:class:`~qa_platform.flags.rule_set.RuleSet`, phrases in maintained lexicon files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qa_platform.domain.transcript import AudioFeatures, Flag, Transcript
from qa_platform.flags.call_view import CallView
from qa_platform.flags.catalogue import AUDIO_RULES, CATALOGUE, Finding
from qa_platform.flags.messages import flag_name, render
from qa_platform.flags.outbound import OUTBOUND_RULES, OutboundContext
from qa_platform.flags.rule_set import (
    RuleParams,
    RuleSet,
    RuleSetError,
    default_rule_set,
    load_rule_set,
    parse_rule_set,
    rule_set_from_dict,
)

__all__ = [
    "CATALOGUE",
    "FLAG_TYPES",
    "OutboundContext",
    "RuleSet",
    "RuleSetError",
    "default_rule_set",
    "evaluate",
    "flag_name",
    "load_rule_set",
    "parse_rule_set",
    "render",
    "rule_set_from_dict",
]

#: Every flag type this package can produce (names are a contract).
FLAG_TYPES: tuple[str, ...] = (*CATALOGUE, *OUTBOUND_RULES)

_SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def evaluate(
    transcript: Transcript | None,
    features: AudioFeatures,
    rule_set: RuleSet | None = None,
    *,
    direction: str = "in",
    business_type: str | None = None,
    outbound: OutboundContext | None = None,
    audio: bool = True,
) -> list[Flag]:
    """All flags of one call under ``rule_set`` (default: the packaged one), sorted by time.

    ``transcript`` is None for a call without speech. ``direction`` is ``in`` or ``out``;
    ``business_type`` selects per-business-line overrides. The outbound rules (外呼规范) run on
    an outbound call given its ``outbound`` context (start time, calendar, earlier refusals).
    ``audio=False`` (a chat: text, no recording) skips the rules that read audio.
    """
    rules = rule_set or default_rule_set()
    params = rules.resolve(direction, business_type)
    call = CallView(transcript, features)
    flags: list[Flag] = []
    for name, rule in CATALOGUE.items():
        p = params[name]
        if p.enabled and (audio or name not in AUDIO_RULES):
            flags.extend(_to_flag(name, p, f, rules.version) for f in rule(call, p))
    if direction == "out" and outbound is not None:
        for name, out_rule in OUTBOUND_RULES.items():
            p = params[name]
            if p.enabled:
                found = out_rule(call, outbound, p)
                flags.extend(_to_flag(name, p, f, rules.version) for f in found)
    return sorted(flags, key=lambda f: (f.start, f.end, f.type))


def _to_flag(name: str, p: RuleParams, finding: Finding, version: str) -> Flag:
    severity = p.severity
    if finding.severity is not None and _SEVERITY_RANK[finding.severity] > _SEVERITY_RANK[severity]:
        severity = finding.severity
    return Flag(
        type=name,
        severity=severity,
        role=finding.role,
        start=round(finding.start, 3),
        end=round(finding.end, 3),
        evidence=finding.evidence,
        rule_set_version=version,
        evidence_key=finding.key,
        evidence_params=_plain(finding.params),
    )


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as JSON-ready values (tuples as lists), unrounded so both languages agree."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
