"""Machine–human agreement of auto-QA (机器与人工一致性), per scorecard item and overall.

Each item decision is binary: *pass* (full points, no red line crossed) or *fail*. Over ``n``
paired decisions (machine, final human result) with the confusion counts

    a = both pass,  b = machine pass / human fail,  c = machine fail / human pass,  d = both fail

percent agreement is p_o = (a + d) / n and Cohen's kappa is κ = (p_o − p_e) / (1 − p_e) with
chance agreement p_e = ((a + b)(a + c) + (c + d)(b + d)) / n². The confidence interval is
κ ± z·SE with Cohen's (1960) large-sample standard error SE = √(p_o (1 − p_o) / (n (1 − p_e)²)),
z the normal quantile of the confidence level (1.96 for 95 %), clipped to [−1, 1]. κ is
undefined (None) when p_e = 1: both sides gave every decision the same value. An item is
*weak* when its κ is defined and below the centre's threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from scoring.calibration import CalibrationError, cohen_kappa


@dataclass(frozen=True, slots=True)
class Confusion:
    """Counts of paired decisions (machine first, human second)."""

    both_pass: int = 0
    machine_pass_human_fail: int = 0
    machine_fail_human_pass: int = 0
    both_fail: int = 0

    @classmethod
    def of(cls, pairs: Iterable[tuple[bool, bool]]) -> Confusion:
        """Count ``(machine_passed, human_passed)`` pairs."""
        counts = [0, 0, 0, 0]
        for machine, human in pairs:
            counts[(0 if machine else 2) + (0 if human else 1)] += 1
        return cls(*counts)

    @property
    def n(self) -> int:
        return (
            self.both_pass
            + self.machine_pass_human_fail
            + self.machine_fail_human_pass
            + self.both_fail
        )

    def pairs(self) -> list[tuple[bool, bool]]:
        return (
            [(True, True)] * self.both_pass
            + [(True, False)] * self.machine_pass_human_fail
            + [(False, True)] * self.machine_fail_human_pass
            + [(False, False)] * self.both_fail
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "both_pass": self.both_pass,
            "machine_pass_human_fail": self.machine_pass_human_fail,
            "machine_fail_human_pass": self.machine_fail_human_pass,
            "both_fail": self.both_fail,
        }


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement on one item (or overall): percent, kappa with its interval, counts, weakness."""

    code: str
    n: int
    percent: float | None
    kappa: float | None
    ci_low: float | None
    ci_high: float | None
    confusion: Confusion
    weak: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "n": self.n,
            "percent_agreement": _round(self.percent),
            "kappa": _round(self.kappa),
            "kappa_ci": [_round(self.ci_low), _round(self.ci_high)]
            if self.ci_low is not None
            else None,
            "confusion": self.confusion.to_dict(),
            "weak": self.weak,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _z(confidence: float) -> float:
    if not (math.isfinite(confidence) and 0 < confidence < 1):
        raise CalibrationError(f"confidence {confidence!r} must be within 0..1 (exclusive)")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def kappa_interval(
    confusion: Confusion, confidence: float = 0.95
) -> tuple[float, float, float] | None:
    """Cohen's kappa and its confidence interval (see the module docstring); None if undefined."""
    n = confusion.n
    if n == 0:
        return None
    z = _z(confidence)
    machine = [m for m, _h in confusion.pairs()]
    human = [h for _m, h in confusion.pairs()]
    kappa = cohen_kappa(machine, human)
    if kappa is None:
        return None
    p_o = (confusion.both_pass + confusion.both_fail) / n
    m_pass = confusion.both_pass + confusion.machine_pass_human_fail
    h_pass = confusion.both_pass + confusion.machine_fail_human_pass
    p_e = (m_pass * h_pass + (n - m_pass) * (n - h_pass)) / n**2
    se = math.sqrt(p_o * (1 - p_o) / (n * (1 - p_e) ** 2))
    return kappa, max(-1.0, kappa - z * se), min(1.0, kappa + z * se)


def agreement(
    code: str,
    pairs: Iterable[tuple[bool, bool]],
    threshold: float,
    confidence: float = 0.95,
) -> Agreement:
    """Agreement of ``(machine_passed, human_passed)`` pairs; weak below ``threshold`` kappa."""
    if not (math.isfinite(threshold) and -1 <= threshold <= 1):
        raise CalibrationError(f"kappa threshold {threshold!r} must be within -1..1")
    confusion = Confusion.of(pairs)
    n = confusion.n
    percent = (confusion.both_pass + confusion.both_fail) / n if n else None
    interval = kappa_interval(confusion, confidence)
    kappa, low, high = interval if interval is not None else (None, None, None)
    weak = kappa is not None and kappa < threshold
    return Agreement(code, n, percent, kappa, low, high, confusion, weak)


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Machine against the final human result on the random stream over one period."""

    period: str
    threshold: float
    evaluations: int
    overall: Agreement
    items: tuple[Agreement, ...]

    @property
    def weak_items(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items if i.weak)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "stream": "random",
            "threshold": self.threshold,
            "evaluations": self.evaluations,
            "overall": self.overall.to_dict(),
            "items": [i.to_dict() for i in self.items],
            "weak_items": list(self.weak_items),
        }


def agreement_report(
    period: str,
    pairs_by_item: Mapping[str, Sequence[tuple[bool, bool]]],
    threshold: float,
    evaluations: int,
    confidence: float = 0.95,
) -> AgreementReport:
    """Per item and pooled over every item decision."""
    items = tuple(
        agreement(code, pairs, threshold, confidence) for code, pairs in pairs_by_item.items()
    )
    pooled = [p for pairs in pairs_by_item.values() for p in pairs]
    overall = agreement("overall", pooled, threshold, confidence)
    return AgreementReport(period, threshold, evaluations, overall, items)


__all__ = [
    "Agreement",
    "AgreementReport",
    "Confusion",
    "agreement",
    "agreement_report",
    "kappa_interval",
]
