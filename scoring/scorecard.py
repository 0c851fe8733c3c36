"""Scorecards (质检评分表): versioned templates and the scoring arithmetic.

A scorecard has sections of items. A scored item has points (its maximum), a weight, may allow
N/A (不适用), and a category that feeds report metrics. A red-line item (红线) is a yes/no
violation: any violation zeroes the whole score.

Score = 100 · Σ wᵢ·sᵢ / Σ wᵢ·pᵢ over applicable (non-N/A) scored items, 0 on a red-line
violation. ``passed`` = no red line and score ≥ pass mark. Per category, ``has_error`` says
whether any item of that category lost points or was violated; 业务准确率 (business accuracy)
and 合规准确率 (compliance accuracy) of Appendix A count calls without such an error.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from qa_platform import safe_yaml
from qa_platform.domain.errors import Invalid
from qa_platform.flags import FLAG_TYPES


class ScorecardError(Invalid):
    """A scorecard template or a set of item results is invalid; the message names it."""


class Category(StrEnum):
    """Report category of an item."""

    BUSINESS_ACCURACY = "business_accuracy"  # 业务准确
    COMPLIANCE = "compliance"  # 合规
    ATTITUDE = "attitude"  # 服务态度
    INITIATIVE = "initiative"  # 主动性
    ETIQUETTE = "etiquette"  # 服务礼仪/规范


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


@dataclass(frozen=True)
class ScorecardItem:
    """One line of the scorecard; ``auto`` None means people judge it (``auto: none``)."""

    code: str
    title: str
    category: Category
    points: float = 0.0
    weight: float = 1.0
    na_allowed: bool = False
    red_line: bool = False
    description: str = ""
    auto: AutoJudge | None = None


@dataclass(frozen=True)
class Section:
    """A group of items shown together (e.g. 开场, 业务处理, 红线)."""

    code: str
    title: str
    items: tuple[ScorecardItem, ...]


@dataclass(frozen=True)
class ItemResult:
    """An inspector's result for one item: points, N/A, or (red line) violated."""

    code: str
    score: float | None = None  # None with na=True means not applicable
    na: bool = False
    violated: bool = False  # red-line items only


@dataclass(frozen=True)
class ScoreResult:
    """Outcome of scoring one call."""

    total: float  # 0..100
    passed: bool
    red_line_violations: tuple[str, ...]
    category_scores: Mapping[str, float | None]
    category_errors: Mapping[str, bool]
    applicable_points: float
    earned_points: float


@dataclass(frozen=True)
class Scorecard:
    """A versioned scorecard template."""

    name: str
    version: int
    pass_mark: float
    sections: tuple[Section, ...]
    title: str = ""

    @property
    def items(self) -> tuple[ScorecardItem, ...]:
        return tuple(item for section in self.sections for item in section.items)

    def item(self, code: str) -> ScorecardItem:
        """The item with ``code``; ``ScorecardError`` if there is none."""
        for candidate in self.items:
            if candidate.code == code:
                return candidate
        raise ScorecardError.of(
            "scorecard.no_item", name=self.name, version=self.version, code=repr(code)
        )

    @property
    def judged_items(self) -> tuple[ScorecardItem, ...]:
        """The items the machine judges (``auto`` declared and not ``none``)."""
        return tuple(item for item in self.items if item.auto is not None)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of the template; pins what a version contained.

        An item without a judge hashes as before judges existed, so stored versions keep theirs.
        """
        payload = json.dumps(
            _without_empty_auto(asdict(self)), sort_keys=True, ensure_ascii=False, default=str
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def validate(self) -> Scorecard:
        """Raise ``ScorecardError`` naming the first problem; return self when valid."""
        where = f"scorecard {self.name!r} v{self.version}"
        if not self.name:
            raise ScorecardError("a scorecard needs a name")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ScorecardError(f"{where}: version must be an integer >= 1")
        if not 0 <= self.pass_mark <= 100:
            raise ScorecardError(f"{where}: pass_mark {self.pass_mark} must be within 0..100")
        seen: set[str] = set()
        for section in self.sections:
            if not section.items:
                raise ScorecardError(f"{where}: section {section.code!r} has no items")
            for item in section.items:
                _validate_item(where, item, seen)
        if not any(not i.red_line for i in self.items):
            raise ScorecardError(f"{where}: needs at least one scored (non-red-line) item")
        return self

    def score(self, results: Iterable[ItemResult]) -> ScoreResult:
        """Score a complete set of item results (every item exactly once)."""
        by_code = self.check_results(results, complete=True)
        violations = tuple(c for c, r in by_code.items() if self.item(c).red_line and r.violated)
        earned, possible = _weighted_sums(self.items, by_code)
        if possible == 0:
            raise ScorecardError.of("scorecard.all_na")
        total = 0.0 if violations else round(100.0 * earned / possible, 4)
        passed = not violations and total >= self.pass_mark
        cats = _category_scores(self.items, by_code)
        errors = _category_errors(self.items, by_code)
        return ScoreResult(total, passed, violations, cats, errors, possible, earned)

    def check_results(
        self, results: Iterable[ItemResult], complete: bool = False
    ) -> dict[str, ItemResult]:
        """Validate item results against this template; ``complete`` needs every item."""
        by_code: dict[str, ItemResult] = {}
        for result in results:
            if result.code in by_code:
                raise ScorecardError.of("scorecard.scored_twice", code=repr(result.code))
            _validate_result(self.item(result.code), result)
            by_code[result.code] = result
        if complete:
            missing = [i.code for i in self.items if i.code not in by_code]
            if missing:
                raise ScorecardError.of("scorecard.not_scored", codes=str(missing))
        return by_code


def _validate_item(where: str, item: ScorecardItem, seen: set[str]) -> None:
    if not item.code or item.code in seen:
        raise ScorecardError(f"{where}: item code {item.code!r} is empty or duplicated")
    seen.add(item.code)
    if not isinstance(item.category, Category):
        raise ScorecardError(f"{where}: item {item.code!r} has unknown category {item.category!r}")
    if item.weight <= 0:
        raise ScorecardError(f"{where}: item {item.code!r} weight must be > 0")
    if item.red_line and item.na_allowed:
        raise ScorecardError(f"{where}: red-line item {item.code!r} cannot be N/A")
    if not item.red_line and item.points <= 0:
        raise ScorecardError(f"{where}: item {item.code!r} needs points > 0")
    if item.auto is not None:
        _validate_judge(item, item.auto)


def _judge_error(item: ScorecardItem, problem: str) -> ScorecardError:
    return ScorecardError.of("scorecard.auto_invalid", code=repr(item.code), problem=problem)


def _validate_judge(item: ScorecardItem, judge: AutoJudge) -> None:
    """Raise naming the item when its judge is not exactly one of flags / metric, or a
    number is not finite and in range."""
    if bool(judge.flags) == (judge.metric is not None):
        raise _judge_error(item, "needs exactly one of flags: [...] or metric: NAME")
    unknown = [f for f in judge.flags if f not in FLAG_TYPES]
    if unknown:
        raise _judge_error(item, f"unknown flags {unknown}; flags: {', '.join(FLAG_TYPES)}")
    if judge.metric is not None:
        _validate_metric_judge(item, judge)
    if item.red_line:
        if judge.deduct:
            raise _judge_error(item, "a red-line item is violated, it deducts no points")
    elif not (math.isfinite(judge.deduct) and 0 < judge.deduct <= item.points):
        raise _judge_error(item, f"deduct {judge.deduct} must be > 0 and <= {item.points}")


def _validate_metric_judge(item: ScorecardItem, judge: AutoJudge) -> None:
    if judge.metric not in METRICS:
        raise _judge_error(item, f"unknown metric {judge.metric!r}; metrics: {', '.join(METRICS)}")
    if judge.min is None and judge.max is None:
        raise _judge_error(item, "a metric judge needs min, max or both")
    for name, value in (("min", judge.min), ("max", judge.max)):
        if value is not None and not (math.isfinite(value) and 0 <= value <= METRIC_BOUND):
            raise _judge_error(item, f"{name} {value} must be within 0..{METRIC_BOUND:g}")
    if judge.min is not None and judge.max is not None and judge.min > judge.max:
        raise _judge_error(item, f"min {judge.min} is above max {judge.max}")


def _validate_result(item: ScorecardItem, result: ItemResult) -> None:
    if item.red_line:
        if result.na or result.score is not None:
            raise ScorecardError.of("scorecard.red_line_only", code=repr(item.code))
        return
    if result.violated:
        raise ScorecardError.of("scorecard.not_red_line", code=repr(item.code))
    if result.na:
        if not item.na_allowed:
            raise ScorecardError.of("scorecard.no_na", code=repr(item.code))
        if result.score is not None:
            raise ScorecardError.of("scorecard.na_and_score", code=repr(item.code))
        return
    if result.score is None or not 0 <= result.score <= item.points:
        raise ScorecardError.of(
            "scorecard.score_range",
            code=repr(item.code),
            score=repr(result.score),
            points=item.points,
        )


def _applicable(items: Iterable[ScorecardItem], by_code: Mapping[str, ItemResult]):
    for item in items:
        result = by_code.get(item.code)
        if result is not None and not item.red_line and not result.na:
            yield item, result


def _weighted_sums(
    items: Iterable[ScorecardItem], by_code: Mapping[str, ItemResult]
) -> tuple[float, float]:
    earned = possible = 0.0
    for item, result in _applicable(items, by_code):
        earned += item.weight * float(result.score or 0.0)
        possible += item.weight * item.points
    return earned, possible


def _category_scores(
    items: tuple[ScorecardItem, ...], by_code: Mapping[str, ItemResult]
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for cat in Category:
        earned, possible = _weighted_sums((i for i in items if i.category is cat), by_code)
        out[str(cat)] = round(100.0 * earned / possible, 4) if possible else None
    return out


def _category_errors(
    items: tuple[ScorecardItem, ...], by_code: Mapping[str, ItemResult]
) -> dict[str, bool]:
    errors = {str(cat): False for cat in Category}
    for item in items:
        result = by_code.get(item.code)
        if result is None:
            continue
        lost = item.red_line and result.violated
        lost = lost or (not item.red_line and not result.na and (result.score or 0) < item.points)
        if lost:
            errors[str(item.category)] = True
    return errors


# --------------------------------------------------------------------------------------
# Loading


def scorecard_from_mapping(data: Mapping[str, Any]) -> Scorecard:
    """Build and validate a scorecard from a dict (parsed YAML/JSON)."""
    try:
        sections = tuple(_section_from(s) for s in data["sections"])
        card = Scorecard(
            name=str(data["name"]),
            version=data["version"],
            pass_mark=float(data.get("pass_mark", 60)),
            sections=sections,
            title=str(data.get("title", "")),
        )
    except KeyError as exc:
        raise ScorecardError(f"scorecard is missing field {exc.args[0]!r}") from None
    return card.validate()


def _section_from(data: Mapping[str, Any]) -> Section:
    items = tuple(_item_from(i) for i in data.get("items") or ())
    return Section(str(data["code"]), str(data.get("title", data["code"])), items)


_ITEM_FIELDS = set(ScorecardItem.__dataclass_fields__)


def _item_from(data: Mapping[str, Any]) -> ScorecardItem:
    unknown = set(data) - _ITEM_FIELDS
    if unknown:
        raise ScorecardError(f"item {data.get('code')!r} has unknown fields {sorted(unknown)}")
    values = dict(data)
    try:
        values["category"] = Category(values["category"])
    except ValueError:
        raise ScorecardError(
            f"item {data.get('code')!r}: category {data['category']!r} is not one of "
            f"{[str(c) for c in Category]}"
        ) from None
    for key in ("points", "weight"):
        if key in values:
            values[key] = _number(data.get("code"), key, values[key])
    values["auto"] = _judge_from(data.get("code"), values.get("auto"))
    return ScorecardItem(**values)


def _number(code: object, key: str, value: object) -> float:
    """``value`` as a float; an error naming the item and the key when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ScorecardError(f"item {code!r}: {key} {value!r} is not a number")
    try:
        return float(value)
    except ValueError:
        raise ScorecardError(f"item {code!r}: {key} {value!r} is not a number") from None


_JUDGE_FIELDS = {"flags", "metric", "min", "max", "deduct"}


def _judge_from(code: object, data: object) -> AutoJudge | None:
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
    bounds = {k: _number(code, f"auto.{k}", data[k]) for k in ("min", "max") if k in data}
    deduct = _number(code, "auto.deduct", data["deduct"]) if "deduct" in data else 0.0
    metric = data.get("metric")
    return AutoJudge(
        flags=tuple(flags),
        metric=None if metric is None else str(metric),
        deduct=deduct,
        **bounds,
    )


def _without_empty_auto(data: dict[str, Any]) -> dict[str, Any]:
    """The scorecard dict with ``auto`` dropped where it is None (the pre-judge form)."""
    for section in data["sections"]:
        for item in section["items"]:
            if item.get("auto", ()) is None:
                del item["auto"]
    return data


def scorecard_to_mapping(card: Scorecard) -> dict[str, Any]:
    """Plain JSON-ready dict of a scorecard (inverse of ``scorecard_from_mapping``)."""
    data = _without_empty_auto(asdict(card))
    for section, card_section in zip(data["sections"], card.sections, strict=True):
        for item, card_item in zip(section["items"], card_section.items, strict=True):
            item["category"] = str(item["category"])
            if card_item.auto is not None:
                item["auto"] = card_item.auto.to_dict()
    return data


def load_scorecard(path: str | Path) -> Scorecard:
    """Load a scorecard YAML file; errors name the file."""
    try:
        data = safe_yaml.load(Path(path).read_text(encoding="utf-8"), f"scorecard {path}")
    except (OSError, safe_yaml.UnsafeYaml) as exc:
        raise ScorecardError(f"cannot read scorecard {path}: {exc}") from None
    if not isinstance(data, Mapping):
        raise ScorecardError(f"scorecard {path} is not a mapping")
    try:
        return scorecard_from_mapping(data)
    except ScorecardError as exc:
        raise ScorecardError(f"{path}: {exc}") from None


def default_scorecard() -> Scorecard:
    """The default insurance phone-service scorecard shipped in scoring/data."""
    text = resources.files("scoring.data").joinpath("default_scorecard.yaml").read_text("utf-8")
    return scorecard_from_mapping(safe_yaml.load(text, "default scorecard"))


def results_from_mapping(data: Mapping[str, Any]) -> list[ItemResult]:
    """Item results from ``{code: score | "na" | {"violated": bool}}`` (CLI/JSON input)."""
    results = []
    for code, value in data.items():
        if isinstance(value, Mapping):
            results.append(
                ItemResult(
                    code, value.get("score"), bool(value.get("na")), bool(value.get("violated"))
                )
            )
        elif value == "na" or value is None:
            results.append(ItemResult(code, None, na=True))
        elif isinstance(value, bool):
            results.append(ItemResult(code, violated=value))
        else:
            results.append(ItemResult(code, float(value)))
    return results


__all__ = [
    "METRICS",
    "AutoJudge",
    "Category",
    "ItemResult",
    "ScoreResult",
    "Scorecard",
    "ScorecardError",
    "ScorecardItem",
    "Section",
    "default_scorecard",
    "load_scorecard",
    "results_from_mapping",
    "scorecard_from_mapping",
    "scorecard_to_mapping",
]
