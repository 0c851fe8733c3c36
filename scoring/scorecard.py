"""Scorecards (质检评分表): versioned templates and the scoring arithmetic.

A scorecard has sections of items. A scored item has points (its maximum), a weight, may allow
N/A (不适用), and a category that feeds report metrics. A red-line item (红线) is a yes/no
violation: any violation zeroes the whole score.

Score = 100 · Σ wᵢ·sᵢ / Σ wᵢ·pᵢ over applicable (non-N/A) scored items, 0 on a red-line
violation. ``passed`` = no red line and score ≥ pass mark. Per category, ``category_errors``
says whether the call had a 差错 (error) there; 业务准确率 and 合规准确率 of Appendix A count
calls without one. A 差错 is a violated red line, or a scored item marked ``error: true`` that
fell below ``error_below`` points (default: lost any point). A scorecard that marks no item
keeps the older reading — any lost point of the category counts (docs/metrics.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from qa_platform import safe_yaml
from scoring.scorecard_fields import (
    METRICS,
    AutoJudge,
    ScorecardError,
    boolean,
    judge_from,
    listing,
    mapping,
    number,
    text,
    validate_judge,
)


class Category(StrEnum):
    """Report category of an item."""

    BUSINESS_ACCURACY = "business_accuracy"  # 业务准确
    COMPLIANCE = "compliance"  # 合规
    ATTITUDE = "attitude"  # 服务态度
    INITIATIVE = "initiative"  # 主动性
    ETIQUETTE = "etiquette"  # 服务礼仪/规范


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
    error: bool = False  # 差错标记: losing points here is an error (业务/合规差错)
    error_below: float | None = None  # with ``error``: a score below this is the error


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
    def marks_errors(self) -> bool:
        """Whether the scorecard says which items are 差错 (else: any lost point counts)."""
        return any(item.error for item in self.items)

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
        errors = _category_errors(self.items, by_code, self.marks_errors)
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
        validate_judge(item.code, item.points, item.red_line, item.auto)


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
    items: tuple[ScorecardItem, ...], by_code: Mapping[str, ItemResult], marked: bool = False
) -> dict[str, bool]:
    errors = {str(cat): False for cat in Category}
    for item in items:
        result = by_code.get(item.code)
        if result is not None and is_error(item, result, marked):
            errors[str(item.category)] = True
    return errors


def is_error(item: ScorecardItem, result: ItemResult, marked: bool) -> bool:
    """Whether this item's result is a 差错: a violated red line; else, on a scorecard that
    marks its error items, a marked item below its error line; on one that marks none, any
    lost point."""
    if item.red_line:
        return result.violated
    if result.na or result.score is None:
        return False
    if not marked:
        return result.score < item.points
    if not item.error:
        return False
    line = item.points if item.error_below is None else item.error_below
    return result.score < line


# --------------------------------------------------------------------------------------
# Loading


def scorecard_from_mapping(data: Mapping[str, Any]) -> Scorecard:
    """Build and validate a scorecard from a dict (parsed YAML/JSON); every field's type and
    range is checked, and an error names the field (and the item)."""
    data = mapping("scorecard", data)
    try:
        version = data["version"]
        name = text("scorecard", "name", data["name"], limit=64)
        sections = tuple(
            _section_from(s) for s in listing("scorecard", "sections", data["sections"])
        )
    except KeyError as exc:
        raise ScorecardError(f"scorecard is missing field {exc.args[0]!r}") from None
    card = Scorecard(
        name=name,
        version=version,
        pass_mark=number("scorecard", "pass_mark", data.get("pass_mark", 60), 0, 100),
        sections=sections,
        title=text("scorecard", "title", data.get("title", ""), limit=200, required=False),
    )
    return card.validate()


def _section_from(data: object) -> Section:
    data = mapping("section", data)
    code = text("section", "code", data.get("code"), limit=64)
    where = f"section {code!r}"
    items = tuple(_item_from(i) for i in listing(where, "items", data.get("items") or []))
    return Section(code, text(where, "title", data.get("title", code), limit=200), items)


_ITEM_FIELDS = set(ScorecardItem.__dataclass_fields__)
#: Largest points and weight an item may have (a scorecard totals 100 points).
MAX_POINTS, MAX_WEIGHT = 1000.0, 100.0


def _item_from(data: object) -> ScorecardItem:
    data = mapping("item", data)
    code = text("item", "code", data.get("code"), limit=64)
    where = f"item {code!r}"
    unknown = set(data) - _ITEM_FIELDS
    if unknown:
        raise ScorecardError(f"{where} has unknown fields {sorted(map(str, unknown))}")
    try:
        category = Category(str(data.get("category")))
    except ValueError:
        raise ScorecardError(
            f"{where}: category {data.get('category')!r} is not one of {[str(c) for c in Category]}"
        ) from None
    return ScorecardItem(
        code=code,
        title=text(where, "title", data.get("title"), limit=200),
        category=category,
        points=number(where, "points", data.get("points", 0.0), 0, MAX_POINTS),
        weight=number(where, "weight", data.get("weight", 1.0), 0, MAX_WEIGHT),
        na_allowed=boolean(where, "na_allowed", data.get("na_allowed", False)),
        red_line=boolean(where, "red_line", data.get("red_line", False)),
        description=text(where, "description", data.get("description", ""), 2000, required=False),
        auto=judge_from(code, data.get("auto")),
        error=boolean(where, "error", data.get("error", False)),
        error_below=_error_below(where, data),
    )


def _error_below(where: str, data: Mapping[str, Any]) -> float | None:
    if data.get("error_below") is None:
        return None
    if not data.get("error"):
        raise ScorecardError(f"{where}: error_below needs error: true")
    points = number(where, "points", data.get("points", 0.0), 0, MAX_POINTS)
    return number(where, "error_below", data["error_below"], 0, points)


def _without_empty_auto(data: dict[str, Any]) -> dict[str, Any]:
    """The scorecard dict with ``auto`` dropped where it is None and the 差错 marks where
    unset (the earlier forms: stored versions keep their fingerprints)."""
    for section in data["sections"]:
        for item in section["items"]:
            if item.get("auto", ()) is None:
                del item["auto"]
            if item.get("error") is False:
                del item["error"]
            if "error_below" in item and item["error_below"] is None:
                del item["error_below"]
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
    "is_error",
    "load_scorecard",
    "results_from_mapping",
    "scorecard_from_mapping",
    "scorecard_to_mapping",
]
