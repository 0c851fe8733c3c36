"""Retention rules (保存期限) as data: the longest applicable rule wins; legal hold beats all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import yaml

from qa_platform.domain.errors import Invalid


class RetentionRuleError(Invalid):
    pass


@dataclass(frozen=True)
class RetentionRules:
    version: str
    years: dict[str, int]

    @classmethod
    def load(cls, path: Path | None = None) -> RetentionRules:
        source = path or resources.files("qa_platform") / "data" / "retention.yaml"
        try:
            data = yaml.safe_load(source.read_text(encoding="utf-8"))
            classes = data["classes"]
            years = {name: int(spec["years"]) for name, spec in classes.items()}
            version = str(data["version"])
        except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
            raise RetentionRuleError(f"retention rules {source}: malformed ({exc})") from None
        if "standard" not in years:
            raise RetentionRuleError(f"retention rules {source}: class 'standard' is required")
        bad = [n for n, y in years.items() if y <= 0]
        if bad:
            raise RetentionRuleError(f"retention rules {source}: years must be positive: {bad}")
        return cls(version=version, years=years)

    def period_years(self, classes: set[str]) -> int:
        unknown = classes - self.years.keys()
        if unknown:
            raise RetentionRuleError(
                f"unknown retention class {sorted(unknown)}; known: {sorted(self.years)}"
            )
        return max(self.years[c] for c in classes | {"standard"})

    def retain_until(self, started_at: datetime, classes: set[str]) -> datetime:
        years = self.period_years(classes)
        try:
            return started_at.replace(year=started_at.year + years)
        except ValueError:  # 29 February
            return started_at.replace(year=started_at.year + years, day=28)


def parse_classes(stored: str) -> set[str]:
    return {c for c in stored.split(",") if c}


def format_classes(classes: set[str]) -> str:
    return ",".join(sorted(classes))
