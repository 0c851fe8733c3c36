"""Sampling plans (抽样方案): which calls are eligible, how many to draw, and how.

A plan is data (versioned, validated on load). ``execute_plan`` applies it to calls the caller
already loaded: it filters the eligible ones, freezes the frame and draws. The database service
does the same with SQL for the filter and this module for everything else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

from qa_platform.domain.chat import CHANNELS
from scoring.sample_size import SampleSizeError, sample_size_proportion
from scoring.sampling import (
    RISKS,
    Frame,
    Method,
    Sample,
    SamplingError,
    Stream,
    agent_quota_sample,
    freeze_frame,
    simple_random_sample,
    stratified_sample,
    targeted_sample,
)

STRATIFY_KEYS = ("agent", "team", "business_type", "direction")


@dataclass(frozen=True)
class FrameCall:
    """What sampling needs to know about one call."""

    id: int
    started_at: datetime
    agent_id: int | None = None
    team_id: int | None = None
    business_type: str = ""
    direction: str = "in"  # in | out
    duration_s: float = 0.0
    analysed: bool = True
    channel: str = "voice"  # voice | chat (网络对话)

    def stratum(self, key: str) -> str:
        """The stratum key of this call under ``stratify_by=key``."""
        value = {"agent": self.agent_id, "team": self.team_id}.get(key, getattr(self, key, None))
        return "" if value is None else str(value)


@dataclass(frozen=True)
class PlanFilters:
    """Eligibility: period [start, end] by call date, and optional attribute filters."""

    period_start: date | None = None
    period_end: date | None = None
    team_ids: tuple[int, ...] = ()
    agent_ids: tuple[int, ...] = ()
    business_types: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # voice | chat: a centre samples chats apart from calls
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    analysed_only: bool = True

    def accepts(self, call: FrameCall) -> bool:
        """True when ``call`` belongs to the frame."""
        day = call.started_at.date()
        checks = (
            self.period_start is None or day >= self.period_start,
            self.period_end is None or day <= self.period_end,
            not self.team_ids or call.team_id in self.team_ids,
            not self.agent_ids or call.agent_id in self.agent_ids,
            not self.business_types or call.business_type in self.business_types,
            not self.directions or call.direction in self.directions,
            not self.channels or call.channel in self.channels,
            self.min_duration_s is None or call.duration_s >= self.min_duration_s,
            self.max_duration_s is None or call.duration_s <= self.max_duration_s,
            not self.analysed_only or call.analysed,
        )
        return all(checks)

    def validate(self) -> None:
        """Raise ``SamplingError`` on an inverted period or duration range."""
        if self.period_start and self.period_end and self.period_start > self.period_end:
            raise SamplingError(
                f"period {self.period_start}..{self.period_end} ends before it starts"
            )
        lo, hi = self.min_duration_s, self.max_duration_s
        if lo is not None and hi is not None and lo > hi:
            raise SamplingError(f"duration range {lo}..{hi} s is inverted")
        if lo is not None and lo < 0:
            raise SamplingError(f"min_duration_s={lo} must be >= 0")
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown:
            raise SamplingError(f"channels {unknown} unknown; allowed: {', '.join(CHANNELS)}")


@dataclass(frozen=True)
class SamplingPlan:
    """A named, versioned sampling plan (抽样方案)."""

    name: str
    version: int = 1
    stream: Stream = Stream.RANDOM
    method: Method = Method.SIMPLE_RANDOM
    filters: PlanFilters = field(default_factory=PlanFilters)
    size: int | None = None  # fixed n, or
    margin: float | None = None  # target margin of error for a proportion (e.g. pass rate)
    confidence: float = 0.95
    proportion: float = 0.5
    per_agent_quota: int | None = None
    stratify_by: str | None = None
    stddevs: Mapping[str, float] = field(default_factory=dict)  # Neyman: S_h per stratum
    flag_types: tuple[str, ...] = ()  # targeted stream only
    per_type_limit: int | None = None  # targeted stream only
    risks: tuple[str, ...] = ()  # targeted stream only: sampling.RISKS
    auto_score_below: float | None = None  # targeted, with the auto_low_score risk

    def __post_init__(self) -> None:
        try:  # accept plain strings for the enums ("targeted", "simple_random", ...)
            object.__setattr__(self, "stream", Stream(self.stream))
            object.__setattr__(self, "method", Method(self.method))
        except ValueError as exc:
            raise SamplingError(f"plan {self.name!r}: {exc}") from None
        object.__setattr__(self, "flag_types", tuple(self.flag_types))
        object.__setattr__(self, "risks", tuple(self.risks))

    def validate(self) -> SamplingPlan:
        """Check the plan; raise ``SamplingError`` naming the field at fault."""
        if not self.name or not self.name.strip():
            raise SamplingError("a sampling plan needs a name")
        if self.version < 1:
            raise SamplingError(f"plan {self.name!r}: version {self.version} must be >= 1")
        self.filters.validate()
        if self.stream is Stream.TARGETED:
            self._validate_targeted()
        else:
            self._validate_random()
        return self

    def _validate_targeted(self) -> None:
        if self.method is not Method.TARGETED:
            raise SamplingError(f"plan {self.name!r}: the targeted stream uses method 'targeted'")
        if not self.flag_types and not self.risks:
            raise SamplingError(
                f"plan {self.name!r}: the targeted stream needs flag_types or risks"
            )
        unknown = sorted(set(self.risks) - set(RISKS))
        if unknown:
            raise SamplingError(f"plan {self.name!r}: unknown risks {unknown}; known: {RISKS}")
        low = "auto_low_score" in self.risks
        if low != (self.auto_score_below is not None):
            raise SamplingError(
                f"plan {self.name!r}: the auto_low_score risk and auto_score_below go together"
            )
        if self.auto_score_below is not None and not 0 < self.auto_score_below <= MAX_SCORE:
            raise SamplingError(
                f"plan {self.name!r}: auto_score_below={self.auto_score_below!r} must be "
                f"above 0 and at most {MAX_SCORE}"
            )
        if self.per_type_limit is not None and self.per_type_limit < 1:
            raise SamplingError(
                f"plan {self.name!r}: per_type_limit={self.per_type_limit} must be >= 1"
            )

    def _validate_random(self) -> None:
        name = self.name
        if (
            self.flag_types
            or self.risks
            or self.auto_score_below is not None
            or self.method is Method.TARGETED
        ):
            raise SamplingError(
                f"plan {name!r}: the random stream cannot select by flag or risk; "
                "use a targeted plan (专项质检) so the two streams never mix"
            )
        if self.method is Method.AGENT_QUOTA:
            if not self.per_agent_quota or self.per_agent_quota < 1:
                raise SamplingError(f"plan {name!r}: agent_quota needs per_agent_quota >= 1")
            return
        if (self.size is None) == (self.margin is None):
            raise SamplingError(f"plan {name!r}: give exactly one of size or margin")
        if self.size is not None and self.size < 0:
            raise SamplingError(f"plan {name!r}: size {self.size} must be >= 0")
        if self.margin is not None:
            try:
                sample_size_proportion(self.margin, self.confidence, self.proportion, 1)
            except SampleSizeError as exc:
                raise SamplingError(f"plan {name!r}: {exc}") from None
        stratified = self.method in (Method.STRATIFIED_PROPORTIONAL, Method.STRATIFIED_NEYMAN)
        if stratified and self.stratify_by not in STRATIFY_KEYS:
            raise SamplingError(f"plan {name!r}: stratify_by must be one of {STRATIFY_KEYS}")

    def resolve_size(self, frame_size: int) -> int:
        """The n to draw from a frame of ``frame_size`` calls (margin → calculator with FPC)."""
        if self.margin is not None:
            return sample_size_proportion(self.margin, self.confidence, self.proportion, frame_size)
        size = self.size or 0
        if size > frame_size:
            raise SamplingError(
                f"plan {self.name!r} asks for {size} calls but only {frame_size} are eligible"
            )
        return size

    def strata_key(self) -> str | None:
        """The attribute calls are stratified by, if any."""
        return "agent" if self.method is Method.AGENT_QUOTA else self.stratify_by

    def to_mapping(self) -> dict[str, Any]:
        """Plain JSON-ready dict (dates as ISO strings)."""
        data = asdict(self)
        data["stream"], data["method"] = str(self.stream), str(self.method)
        for key in ("period_start", "period_end"):
            value = data["filters"][key]
            data["filters"][key] = value.isoformat() if value else None
        data["stddevs"] = dict(self.stddevs)
        return data

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SamplingPlan:
        """Build and validate a plan from a dict (YAML/JSON); unknown keys are errors."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise SamplingError(f"unknown sampling plan fields: {sorted(unknown)}")
        values = dict(data)
        _check_types(values, _PLAN_TYPES, "")
        try:
            values["stream"] = Stream(values.get("stream", Stream.RANDOM))
            values["method"] = Method(values.get("method", Method.SIMPLE_RANDOM))
        except ValueError as exc:
            raise SamplingError(str(exc)) from None
        values["filters"] = _filters_from(values.get("filters") or {})
        for key in ("flag_types", "risks"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values).validate()

    def next_version(self, **changes: Any) -> SamplingPlan:
        """A new version of this plan with ``changes``; old versions stay as they were."""
        return replace(self, version=self.version + 1, **changes).validate()


MAX_LIST = 10_000  # ids or codes in one plan field
MAX_SCORE = 1000.0  # an auto-score threshold above any scorecard's total is a typo
MAX_TEXT = 200


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _number(value: Any) -> bool:
    return (_int(value) or isinstance(value, float)) and math.isfinite(value)


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _list_of(check: Any) -> Any:
    def ok(value: Any) -> bool:
        return (
            isinstance(value, list | tuple)
            and len(value) <= MAX_LIST
            and all(check(v) for v in value)
        )

    return ok


def _stddevs(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str | int) and not isinstance(k, bool) and _number(v) and v >= 0
        for k, v in value.items()
    )


def _day(value: Any) -> bool:
    return isinstance(value, str | date) and not isinstance(value, datetime)


_PLAN_TYPES: dict[str, tuple[Any, str]] = {
    "name": (_text, "a name (text)"),
    "version": (_int, "a whole number"),
    "stream": (_text, "text"),
    "method": (_text, "text"),
    "filters": (lambda v: isinstance(v, Mapping), "a mapping"),
    "size": (_int, "a whole number"),
    "margin": (_number, "a finite number"),
    "confidence": (_number, "a finite number"),
    "proportion": (_number, "a finite number"),
    "per_agent_quota": (_int, "a whole number"),
    "stratify_by": (_text, "text"),
    "stddevs": (_stddevs, "a mapping of stratum to a finite number >= 0"),
    "flag_types": (_list_of(_text), "a list of flag types"),
    "per_type_limit": (_int, "a whole number"),
    "risks": (_list_of(_text), f"a list of risks out of {', '.join(RISKS)}"),
    "auto_score_below": (_number, "a finite number"),
}
_FILTER_TYPES: dict[str, tuple[Any, str]] = {
    "period_start": (_day, "a YYYY-MM-DD date"),
    "period_end": (_day, "a YYYY-MM-DD date"),
    "team_ids": (_list_of(_int), "a list of ids"),
    "agent_ids": (_list_of(_int), "a list of ids"),
    "business_types": (_list_of(_text), "a list of texts"),
    "directions": (_list_of(_text), "a list of texts"),
    "channels": (_list_of(_text), "a list of texts (voice, chat)"),
    "min_duration_s": (_number, "a finite number"),
    "max_duration_s": (_number, "a finite number"),
    "analysed_only": (lambda v: isinstance(v, bool), "true or false"),
}


def _check_types(values: Mapping[str, Any], types: Mapping[str, tuple[Any, str]], at: str) -> None:
    """Every present, non-null field has the type the plan expects (else name the field)."""
    for key, value in values.items():
        if value is None or key not in types:
            continue
        check, expected = types[key]
        if not check(value):
            shown = repr(value)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise SamplingError(f"field '{at}{key}' must be {expected} (got {shown})")


def _filters_from(data: Mapping[str, Any]) -> PlanFilters:
    unknown = set(data) - set(PlanFilters.__dataclass_fields__)
    if unknown:
        raise SamplingError(f"unknown filter fields: {sorted(unknown)}")
    if not isinstance(data, Mapping):
        raise SamplingError(f"field 'filters' must be a mapping, not {type(data).__name__}")
    values = dict(data)
    _check_types(values, _FILTER_TYPES, "filters.")
    for key in ("period_start", "period_end"):
        if isinstance(values.get(key), str):
            try:
                values[key] = date.fromisoformat(values[key])
            except ValueError:
                raise SamplingError(f"{key}={values[key]!r} is not a YYYY-MM-DD date") from None
    for key in ("team_ids", "agent_ids", "business_types", "directions", "channels"):
        values[key] = tuple(values.get(key) or ())
    return PlanFilters(**values)


def build_frame(plan: SamplingPlan, calls: Iterable[FrameCall]) -> Frame:
    """Freeze the frame of eligible calls, with strata when the plan stratifies."""
    eligible = [c for c in calls if plan.filters.accepts(c)]
    key = plan.strata_key()
    strata = {c.id: c.stratum(key) for c in eligible} if key else None
    return freeze_frame((c.id for c in eligible), strata)


def draw(plan: SamplingPlan, frame: Frame, seed: int) -> Sample:
    """Draw the random-stream sample a plan asks for from a frozen frame."""
    plan.validate()
    if plan.stream is Stream.TARGETED:
        raise SamplingError("targeted plans are drawn with execute_plan(..., flags_by_call=...)")
    if plan.method is Method.AGENT_QUOTA:
        return agent_quota_sample(frame, plan.per_agent_quota or 0, seed)
    n = plan.resolve_size(frame.size)
    if plan.method is Method.SIMPLE_RANDOM:
        return simple_random_sample(frame, n, seed)
    allocation = "neyman" if plan.method is Method.STRATIFIED_NEYMAN else "proportional"
    return stratified_sample(frame, n, seed, allocation, plan.stddevs)


def execute_plan(
    plan: SamplingPlan,
    calls: Iterable[FrameCall],
    seed: int,
    flags_by_call: Mapping[int, Iterable[str]] | None = None,
) -> Sample:
    """Filter, freeze and draw. Targeted plans also need ``flags_by_call``."""
    plan.validate()
    if plan.stream is Stream.TARGETED:
        eligible = {c.id for c in calls if plan.filters.accepts(c)}
        flags = {c: f for c, f in (flags_by_call or {}).items() if c in eligible}
        return targeted_sample(flags, plan.flag_types, seed, plan.per_type_limit)
    return draw(plan, build_frame(plan, calls), seed)
