"""Versioned rule sets (规则集): flag thresholds as validated data.

A rule set is a YAML document::

    version: "2026.11-1"           # required, shown on every flag it produced
    description: "..."
    rules:                          # every catalogue rule, every parameter, explicitly
      ultra_short: {enabled: true, severity: warning, max_duration_s: 10}
      ...
    overrides:                      # applied in order when ``when`` matches the call
      - when: {direction: out}      # direction in|out, business_type: any string
        rules:
          ultra_long: {min_duration_s: 900}

Loading validates everything and names the file and the key of the first problem: unknown
keys, wrong types, negative thresholds, ratios outside 0..1, min above max, unknown lexicons.
A rule set carries its version and a content hash (sha256 of its canonical JSON form).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from qa_platform import safe_yaml
from qa_platform.domain.errors import Invalid
from qa_platform.domain.transcript import Severity
from qa_platform.lexicon import LexiconError, load_lexicon

DIRECTIONS = ("in", "out")
MAX_VERSION_LENGTH = 64  # stored on every flag row
_TOP_LEVEL = {"version", "description", "rules", "overrides"}
_WHEN_KEYS = {"direction", "business_type"}
_OVERRIDE_KEYS = {"when", "rules", "name"}


class RuleSetError(Invalid):
    """A rule set is invalid; the message names the file and the offending key."""


@dataclass(frozen=True, slots=True)
class Param:
    """Type and range of one rule parameter."""

    kind: str  # number | integer | ratio | lexicon | bool | severity | clock
    minimum: float = 0.0
    #: Value of a parameter added after rule sets were stored: older rule sets (which do not
    #: name it) keep loading and get this; None = the parameter is required.
    default: Any = None


NUMBER, INTEGER, RATIO, LEXICON, CLOCK = (
    Param("number"),
    Param("integer"),
    Param("ratio"),
    Param("lexicon"),
    Param("clock"),  # a time of day "HH:MM" (local time of the centre)
)
POSITIVE_INTEGER = Param("integer", 1)
_COMMON = {"enabled": Param("bool"), "severity": Param("severity")}

#: Parameters of each rule of the catalogue (the names are a contract, see docs/flags.md).
RULE_PARAMS: Mapping[str, Mapping[str, Param]] = MappingProxyType(
    {
        "ultra_short": {"max_duration_s": NUMBER},
        "ultra_long": {"min_duration_s": NUMBER},
        "long_silence": {"min_silence_s": NUMBER},
        "silence_ratio": {"max_ratio": RATIO, "min_duration_s": NUMBER},
        "abuse_agent": {"lexicon": LEXICON},
        "abuse_customer": {"lexicon": LEXICON},
        "missing_greeting": {"within_s": NUMBER, "lexicon": LEXICON},
        "missing_agent_id": {"within_s": NUMBER, "number_within": INTEGER, "lexicon": LEXICON},
        "missing_identity_check": {
            "min_factors": POSITIVE_INTEGER,
            "identity_lexicon": LEXICON,
            "given_lexicon": Param("lexicon", default="identity_given"),
            "given_number_within": Param("integer", default=4),
            "request_lexicon": LEXICON,
            "request_object_lexicon": LEXICON,
            "request_verb_lexicon": LEXICON,
            "request_window": POSITIVE_INTEGER,
            "action_lexicon": LEXICON,
            "policy_lexicon": LEXICON,
        },
        "missing_closing": {"last_s": NUMBER, "lexicon": LEXICON},
        "filler_words": {
            "max_per_minute": NUMBER,
            "min_agent_speech_s": NUMBER,
            "lexicon": LEXICON,
        },
        "speech_rate": {
            "min_cpm": NUMBER,
            "max_cpm": NUMBER,
            "tolerance_cpm": NUMBER,
            "min_agent_speech_s": NUMBER,
        },
        "interruption": {"min_overlap_s": NUMBER, "max_count": INTEGER},
        "complaint_risk": {"lexicon": LEXICON},
        "misleading_promise": {"lexicon": LEXICON},
        "asr_unreliable": {"min_confidence": RATIO},
        # customer emotion (客户情绪, qa_platform.flags.customer_emotion): scores are 0..1
        "customer_negative_end": {
            "min_segments": Param("integer", 3),
            "min_rise": Param("ratio", 0.01),
            "min_end_score": RATIO,
        },
        # outbound rules (外呼规范, seeds/003 二(二)); qa_platform.flags.outbound
        "outbound_hours": {
            "working_day_from": CLOCK,
            "working_day_until": CLOCK,
            "rest_day_from": CLOCK,
            "rest_day_until": CLOCK,
            "never_before": CLOCK,
            "never_after": CLOCK,
        },
        "outbound_cooling": {"cooling_days": POSITIVE_INTEGER},
        "outbound_identity": {
            "within_s": NUMBER,
            "lexicon": LEXICON,
            "company_lexicon": LEXICON,
        },
        "outbound_disclaimer": {"lexicon": LEXICON, "trigger_lexicon": LEXICON},
        "outbound_refusal": {"lexicon": LEXICON},
        "outbound_pushing": {"refusal_lexicon": LEXICON, "push_lexicon": LEXICON},
    }
)
#: Rules added after rule sets were stored: a stored rule set that does not name one gets these
#: values (the packaged default names every rule explicitly).
RULES_ADDED_LATER: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "customer_negative_end": {
            "enabled": False,
            "severity": "info",
            "min_segments": 3,
            "min_rise": 0.2,
            "min_end_score": 0.6,
        },
        "outbound_hours": {
            "enabled": True,
            "severity": "warning",
            "working_day_from": "08:30",
            "working_day_until": "17:30",
            "rest_day_from": "09:00",
            "rest_day_until": "17:00",
            "never_before": "08:00",
            "never_after": "20:00",
        },
        "outbound_cooling": {"enabled": True, "severity": "critical", "cooling_days": 90},
        "outbound_identity": {
            "enabled": True,
            "severity": "warning",
            "within_s": 20,
            "lexicon": "outbound_vague_identity",
            "company_lexicon": "outbound_company",
        },
        "outbound_disclaimer": {
            "enabled": True,
            "severity": "warning",
            "lexicon": "outbound_disclaimer",
            "trigger_lexicon": "outbound_recommendation",
        },
        "outbound_refusal": {"enabled": True, "severity": "info", "lexicon": "outbound_refusal"},
        "outbound_pushing": {
            "enabled": True,
            "severity": "warning",
            "refusal_lexicon": "outbound_refusal",
            "push_lexicon": "outbound_recommendation",
        },
    }
)
#: (rule, parameter) pairs where the first must not exceed the second.
_MIN_MAX_PAIRS = (
    (("speech_rate", "min_cpm"), ("speech_rate", "max_cpm")),
    (("ultra_short", "max_duration_s"), ("ultra_long", "min_duration_s")),
    # calling hours: never_before ≤ from ≤ until ≤ never_after ("HH:MM" sorts as it reads)
    (("outbound_hours", "never_before"), ("outbound_hours", "working_day_from")),
    (("outbound_hours", "working_day_from"), ("outbound_hours", "working_day_until")),
    (("outbound_hours", "working_day_until"), ("outbound_hours", "never_after")),
    (("outbound_hours", "never_before"), ("outbound_hours", "rest_day_from")),
    (("outbound_hours", "rest_day_from"), ("outbound_hours", "rest_day_until")),
    (("outbound_hours", "rest_day_until"), ("outbound_hours", "never_after")),
)


@dataclass(frozen=True, slots=True)
class RuleParams:
    """The resolved parameters of one rule for one call."""

    name: str
    enabled: bool
    severity: Severity
    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


@dataclass(frozen=True, slots=True)
class Override:
    when: Mapping[str, str]
    rules: Mapping[str, Mapping[str, Any]]
    name: str = ""

    def matches(self, direction: str, business_type: str | None) -> bool:
        wanted = {"direction": direction, "business_type": business_type}
        return all(wanted[k] == v for k, v in self.when.items())


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A validated, versioned rule set; ``resolve`` gives the parameters for one call."""

    version: str
    rules: Mapping[str, Mapping[str, Any]]
    overrides: tuple[Override, ...] = ()
    description: str = ""
    content_hash: str = ""
    source: str = "<memory>"
    _cache: dict[tuple[str, str | None], Mapping[str, RuleParams]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def resolve(self, direction: str, business_type: str | None = None) -> Mapping[str, RuleParams]:
        """Parameters of every rule for a call of this direction (in|out) and business line."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        key = (direction, business_type)
        if key not in self._cache:
            self._cache[key] = self._resolve(direction, business_type)
        return self._cache[key]

    def _resolve(self, direction: str, business_type: str | None) -> Mapping[str, RuleParams]:
        merged = {name: dict(values) for name, values in self.rules.items()}
        for override in self.overrides:
            if override.matches(direction, business_type):
                for name, values in override.rules.items():
                    merged[name].update(values)
        return MappingProxyType({name: _params(name, values) for name, values in merged.items()})

    def to_dict(self) -> dict[str, Any]:
        """The rule set as plain data (what the YAML holds)."""
        return _document(self.version, self.description, self.rules, self.overrides)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)


def _params(name: str, values: Mapping[str, Any]) -> RuleParams:
    rest = {k: v for k, v in values.items() if k not in _COMMON}
    return RuleParams(
        name, bool(values["enabled"]), Severity(values["severity"]), MappingProxyType(rest)
    )


def _document(
    version: str,
    description: str,
    rules: Mapping[str, Mapping[str, Any]],
    overrides: tuple[Override, ...],
) -> dict[str, Any]:
    doc: dict[str, Any] = {"version": version, "description": description}
    doc["rules"] = {name: dict(values) for name, values in rules.items()}
    doc["overrides"] = [
        {
            **({"name": o.name} if o.name else {}),
            "when": dict(o.when),
            "rules": {n: dict(v) for n, v in o.rules.items()},
        }
        for o in overrides
    ]
    return doc


# ----------------------------------------------------------------------------- loading


def default_rule_set_path() -> Path:
    """The default rule set shipped with the package (``qa_platform/data/rules/default.yaml``)."""
    return Path(str(resources.files("qa_platform") / "data" / "rules" / "default.yaml"))


def default_rule_set() -> RuleSet:
    """The packaged default rule set (cached per process)."""
    path = default_rule_set_path()
    return _load_cached(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _load_cached(path: str, _mtime_ns: int) -> RuleSet:
    return load_rule_set(path)


def load_rule_set(path: str | Path) -> RuleSet:
    """Load and validate a rule-set YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleSetError(f"{p}: cannot read rule set: {exc.strerror or exc}") from None
    return parse_rule_set(text, source=str(p))


def parse_rule_set(text: str, source: str = "<string>") -> RuleSet:
    """Parse and validate rule-set YAML text; ``source`` names it in errors."""
    try:
        data = safe_yaml.load(text, source)
    except safe_yaml.UnsafeYaml as exc:
        raise RuleSetError(str(exc)) from None
    return rule_set_from_dict(data, source=source)


def rule_set_from_dict(data: Any, source: str = "<dict>") -> RuleSet:
    """Validate a rule set given as plain data."""
    v = _Validator(source)
    if not isinstance(data, dict):
        v.fail("", f"a rule set must be a mapping, got {type(data).__name__}")
    v.unknown_keys("", data, _TOP_LEVEL)
    version = data.get("version")
    if (
        not isinstance(version, str | int | float)
        or isinstance(version, bool)
        or not str(version).strip()
    ):
        v.fail("version", "is required and must be a non-empty string")
    if len(str(version)) > MAX_VERSION_LENGTH:
        v.fail(
            "version", f"must be at most {MAX_VERSION_LENGTH} characters, got {len(str(version))}"
        )
    description = data.get("description") or ""
    if not isinstance(description, str):
        v.fail("description", "must be a string")
    rules = v.base_rules(data.get("rules"))
    raw_overrides = data.get("overrides") or []
    if not isinstance(raw_overrides, list):
        v.fail("overrides", f"must be a list, got {type(raw_overrides).__name__}")
    overrides = tuple(v.override(i, o, rules) for i, o in enumerate(raw_overrides))
    doc = _document(str(version), description, rules, overrides)
    digest = hashlib.sha256(
        json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return RuleSet(str(version), rules, overrides, description, digest, source)


class _Validator:
    """Checks one rule-set document; every error names the file and the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> None:
        where = f"{self.source}: {key}" if key else self.source
        raise RuleSetError(f"{where}: {problem}")

    def unknown_keys(self, key: str, mapping: Mapping[str, Any], allowed: set[str]) -> None:
        for k in mapping:
            if k not in allowed:
                self.fail(
                    _join(key, str(k)), f"unknown key (allowed: {', '.join(sorted(allowed))})"
                )

    def mapping(self, key: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {type(value).__name__}")
        return value

    def base_rules(self, raw: Any) -> dict[str, dict[str, Any]]:
        rules = self.mapping("rules", raw)
        self.unknown_keys("rules", rules, set(RULE_PARAMS))
        out: dict[str, dict[str, Any]] = {}
        for name, spec in RULE_PARAMS.items():
            if name not in rules and name not in RULES_ADDED_LATER:
                self.fail(f"rules.{name}", "missing (every catalogue rule must be configured)")
            raw = rules[name] if name in rules else dict(RULES_ADDED_LATER[name])
            values = self.rule_values(f"rules.{name}", name, raw)
            for param in [*_COMMON, *spec]:
                default = spec[param].default if param in spec else None
                if param not in values and default is not None:
                    values[param] = default
                elif param not in values:
                    self.fail(f"rules.{name}.{param}", "missing")
            out[name] = values
        self.consistent("rules", out)
        return out

    def override(self, i: int, raw: Any, base: Mapping[str, Mapping[str, Any]]) -> Override:
        key = f"overrides[{i}]"
        o = self.mapping(key, raw)
        self.unknown_keys(key, o, _OVERRIDE_KEYS)
        when = dict(self.mapping(f"{key}.when", o.get("when")))
        self.unknown_keys(f"{key}.when", when, _WHEN_KEYS)
        if not when:
            self.fail(f"{key}.when", "must name direction and/or business_type")
        if "direction" in when and when["direction"] not in DIRECTIONS:
            self.fail(
                f"{key}.when.direction", f"must be one of {DIRECTIONS}, got {when['direction']!r}"
            )
        if "business_type" in when and not isinstance(when["business_type"], str):
            self.fail(f"{key}.when.business_type", "must be a string")
        rules = self.mapping(f"{key}.rules", o.get("rules"))
        self.unknown_keys(f"{key}.rules", rules, set(RULE_PARAMS))
        out = {n: self.rule_values(f"{key}.rules.{n}", n, v) for n, v in rules.items()}
        self.consistent(f"{key}.rules", {n: {**v, **out.get(n, {})} for n, v in base.items()})
        return Override(MappingProxyType(when), MappingProxyType(out), str(o.get("name") or ""))

    def rule_values(self, key: str, name: str, raw: Any) -> dict[str, Any]:
        values = self.mapping(key, raw)
        allowed = {**_COMMON, **RULE_PARAMS[name]}
        self.unknown_keys(key, values, set(allowed))
        return {k: self.value(f"{key}.{k}", allowed[k], v) for k, v in values.items()}

    def value(self, key: str, param: Param, raw: Any) -> Any:
        if param.kind == "bool":
            if not isinstance(raw, bool):
                self.fail(key, f"must be true or false, got {raw!r}")
            return raw
        if param.kind == "severity":
            if raw not in {str(s) for s in Severity}:
                self.fail(key, f"must be one of {[str(s) for s in Severity]}, got {raw!r}")
            return str(raw)
        if param.kind == "lexicon":
            return self.lexicon(key, raw)
        if param.kind == "clock":
            return self.clock(key, raw)
        return self.number(key, param, raw)

    def clock(self, key: str, raw: Any) -> str:
        """A local time of day written ``HH:MM`` (00:00 to 23:59)."""
        text = str(raw) if isinstance(raw, str) else ""
        hours, _, minutes = text.partition(":")
        valid = (
            len(hours) == 2
            and len(minutes) == 2
            and hours.isdigit()
            and minutes.isdigit()
            and int(hours) < 24
            and int(minutes) < 60
        )
        if not valid:
            self.fail(key, f"must be a time of day HH:MM (00:00 to 23:59), got {raw!r}")
        return text

    def number(self, key: str, param: Param, raw: Any) -> float | int:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            self.fail(key, f"must be a number, got {raw!r}")
        if param.kind == "integer" and not float(raw).is_integer():
            self.fail(key, f"must be a whole number, got {raw!r}")
        if raw != raw or raw in (float("inf"), float("-inf")):
            self.fail(key, f"must be a finite number, got {raw!r}")
        if raw < param.minimum:
            self.fail(key, f"must be ≥ {param.minimum:g}, got {raw!r}")
        if param.kind == "ratio" and raw > 1:
            self.fail(key, f"is a ratio and must be between 0 and 1, got {raw!r}")
        return int(raw) if param.kind == "integer" else raw

    def lexicon(self, key: str, raw: Any) -> str:
        if not isinstance(raw, str) or not raw:
            self.fail(key, f"must name a lexicon, got {raw!r}")
        try:
            load_lexicon(raw)
        except LexiconError as exc:
            self.fail(key, str(exc))
        return raw

    def consistent(self, key: str, rules: Mapping[str, Mapping[str, Any]]) -> None:
        """Minimums not above maximums, within a rule and across rules."""
        for (rule_a, low), (rule_b, high) in _MIN_MAX_PAIRS:
            a, b = rules[rule_a][low], rules[rule_b][high]
            if a > b:
                self.fail(f"{key}.{rule_a}.{low}", f"{a} is above {rule_b}.{high}={b}")


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key
