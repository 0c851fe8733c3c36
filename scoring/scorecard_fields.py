"""The fields of a scorecard template as they arrive from outside (YAML, JSON, a form): each
checked for type and range with an error that names the field, and the machine judge of an
item (机器判定, ``auto:``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qa_platform.domain.errors import Invalid
from qa_platform.flags import FLAG_TYPES


class ScorecardError(Invalid):
    """A scorecard template or a set of item results is invalid; the message names it."""


def mapping(where: str, value: object) -> Mapping[str, Any]:
    """``value`` as a mapping, or an error saying what ``where`` should have been."""
    if not isinstance(value, Mapping):
        raise ScorecardError(f"{where} must be a mapping, not {type(value).__name__}")
    return value


def listing(where: str, key: str, value: object) -> Sequence[Any]:
    """``value`` as a list (not a string)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ScorecardError(f"{where}: {key} must be a list, not {type(value).__name__}")
    return value


def text(where: str, key: str, value: object, limit: int, *, required: bool = True) -> str:
    """``value`` as a string of at most ``limit`` characters, no control characters."""
    if not isinstance(value, str):
        raise ScorecardError(f"{where}: {key} must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise ScorecardError(f"{where}: {key} must not be empty")
    if len(value) > limit:
        raise ScorecardError(f"{where}: {key} has {len(value)} characters, more than {limit}")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ScorecardError(f"{where}: {key} contains control characters")
    return value


def number(where: str, key: str, value: object, lo: float = 0.0, hi: float = 1e6) -> float:
    """``value`` as a finite float within ``lo``..``hi``; an error naming the field otherwise."""
    label = str(where)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ScorecardError(f"{label}: {key} {value!r} is not a number")
    try:
        result = float(value)
    except ValueError:
        raise ScorecardError(f"{label}: {key} {value!r} is not a number") from None
    if not (math.isfinite(result) and lo <= result <= hi):
        raise ScorecardError(f"{label}: {key} {value!r} must be a number within {lo:g}..{hi:g}")
    return result


def boolean(where: str, key: str, value: object) -> bool:
    """``value`` as a bool: true/false only (YAML's yes/no arrive as bools already)."""
    if not isinstance(value, bool):
        raise ScorecardError(f"{where}: {key} must be true or false, not {value!r}")
    return value


#: Call metrics a judge may read (measured by :mod:`scoring.call_metrics`).
METRICS: tuple[str, ...] = ("agent_cpm", "filler_per_minute", "agent_personal_data")
#: Largest bound a metric judge accepts (字/分钟 and counts are far below it).
METRIC_BOUND = 10_000.0


@dataclass(frozen=True)
class AutoJudge:
    """How the machine judges an item (机器判定): by flags or by one call metric.

    Each finding (a raised flag of ``flags``, or ``metric`` outside ``min``..``max``) deducts
    ``deduct`` points, never below 0; on a red-line item any finding is a violation.
    """

    flags: tuple[str, ...] = ()
    metric: str | None = None
    min: float | None = None
    max: float | None = None
    deduct: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"deduct": self.deduct} if self.deduct else {}
        if self.flags:
            return {"flags": list(self.flags)} | data
        bounds = {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}
        return {"metric": self.metric} | bounds | data


def _judge_error(code: str, problem: str) -> ScorecardError:
    return ScorecardError.of("scorecard.auto_invalid", code=repr(code), problem=problem)


def validate_judge(code: str, points: float, red_line: bool, judge: AutoJudge) -> None:
    """Raise naming the item when its judge is not exactly one of flags / metric, or a
    number is not finite and in range."""
    if bool(judge.flags) == (judge.metric is not None):
        raise _judge_error(code, "needs exactly one of flags: [...] or metric: NAME")
    unknown = [f for f in judge.flags if f not in FLAG_TYPES]
    if unknown:
        raise _judge_error(code, f"unknown flags {unknown}; flags: {', '.join(FLAG_TYPES)}")
    if judge.metric is not None:
        _validate_metric_judge(code, judge)
    if red_line:
        if judge.deduct:
            raise _judge_error(code, "a red-line item is violated, it deducts no points")
    elif not (math.isfinite(judge.deduct) and 0 < judge.deduct <= points):
        raise _judge_error(code, f"deduct {judge.deduct} must be > 0 and <= {points}")


def _validate_metric_judge(code: str, judge: AutoJudge) -> None:
    if judge.metric not in METRICS:
        raise _judge_error(code, f"unknown metric {judge.metric!r}; metrics: {', '.join(METRICS)}")
    if judge.min is None and judge.max is None:
        raise _judge_error(code, "a metric judge needs min, max or both")
    for name, value in (("min", judge.min), ("max", judge.max)):
        if value is not None and not (math.isfinite(value) and 0 <= value <= METRIC_BOUND):
            raise _judge_error(code, f"{name} {value} must be within 0..{METRIC_BOUND:g}")
    if judge.min is not None and judge.max is not None and judge.min > judge.max:
        raise _judge_error(code, f"min {judge.min} is above max {judge.max}")


_JUDGE_FIELDS = {"flags", "metric", "min", "max", "deduct"}


def judge_from(code: object, data: object) -> AutoJudge | None:
    """An item's ``auto:`` (a mapping, ``none`` or absent) as a judge; None = people judge."""
    if data is None or data == "none":
        return None
    if not isinstance(data, Mapping):
        raise ScorecardError(f"item {code!r}: auto must be a mapping or 'none', not {data!r}")
    unknown = set(data) - _JUDGE_FIELDS
    if unknown:
        raise ScorecardError(f"item {code!r}: auto has unknown fields {sorted(unknown)}")
    flags = data.get("flags") or ()
    if isinstance(flags, str) or not all(isinstance(f, str) for f in flags):
        raise ScorecardError(f"item {code!r}: auto.flags must be a list of flag types")
    bounds = {
        k: number(f"item {code!r}", f"auto.{k}", data[k], 0, METRIC_BOUND)
        for k in ("min", "max")
        if k in data
    }
    deduct = (
        number(f"item {code!r}", "auto.deduct", data["deduct"], 0, 1000)
        if "deduct" in data
        else 0.0
    )
    metric = data.get("metric")
    return AutoJudge(
        flags=tuple(flags),
        metric=None if metric is None else str(metric),
        deduct=deduct,
        **bounds,
    )
