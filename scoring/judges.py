"""Automatic judges (机器判定): a scorecard's machine-judged items scored from flags and metrics.

``judge(scorecard, flags, metrics)`` is pure. An item whose ``auto`` names flags loses
``deduct`` points per raised flag of those types (never below 0); one naming a metric loses
``deduct`` once when the value lies outside ``min``..``max`` (bounds inclusive) and is not
judged when the metric could not be measured. A red-line item (红线) is violated by any finding.
Items without a judge are left to people (``judged: false``). The script rules (greeting,
工号, identity check, closing, fillers, speech rate) never fire on a call where the agent did not
speak, so an item judged only by their flags is left to people on such a call.

The machine total covers the judged items only: 100 · Σ wᵢ·sᵢ / Σ wᵢ·pᵢ over judged scored
items, 0 on a judged red-line violation; ``passed`` = no violation and total ≥ the pass mark.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qa_platform.domain.transcript import Flag
from qa_platform.flags.catalogue import AUDIO_RULES
from scoring.call_metrics import CallMetrics, Evidence
from scoring.scorecard import AutoJudge, Scorecard, ScorecardItem

#: Flags whose rules need agent speech (qa_platform.flags.catalogue: script rules).
SCRIPT_FLAGS = frozenset(
    {
        "missing_greeting",
        "missing_agent_id",
        "missing_identity_check",
        "missing_closing",
        "filler_words",
        "speech_rate",
    }
)


@dataclass(frozen=True, slots=True)
class ItemJudgement:
    """The machine's decision on one item: score (None if not judged), violation, evidence."""

    code: str
    points: float
    judged: bool
    score: float | None = None
    violated: bool = False
    evidence: tuple[Evidence, ...] = ()

    @property
    def passed(self) -> bool | None:
        """The item decision (合格): full points and no violation; None when not judged."""
        if not self.judged:
            return None
        return not self.violated and (self.score is None or self.score >= self.points)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "score": self.score,
            "points": self.points,
            "judged": self.judged,
            "violated": self.violated,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class AutoEvaluation:
    """Auto evaluation (机器预评分) of one call under one scorecard version."""

    scorecard: str
    version: int
    total: float
    passed: bool
    items: tuple[ItemJudgement, ...]

    @property
    def red_line_violations(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items if i.violated)

    def item(self, code: str) -> ItemJudgement | None:
        return next((i for i in self.items if i.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scorecard": self.scorecard,
            "version": self.version,
            "total": self.total,
            "passed": self.passed,
            "items": [i.to_dict() for i in self.items],
        }


def judge(card: Scorecard, flags: Iterable[Flag], metrics: CallMetrics) -> AutoEvaluation:
    """Score every machine-judged item of ``card`` from the call's flags and metrics."""
    flag_list = list(flags)
    card_items = card.items
    items = tuple(_judge_item(item, flag_list, metrics) for item in card_items)
    total = _total(card_items, items)
    passed = not any(i.violated for i in items) and total >= card.pass_mark
    return AutoEvaluation(card.name, card.version, total, passed, items)


def _judge_item(item: ScorecardItem, flags: Sequence[Flag], metrics: CallMetrics) -> ItemJudgement:
    judge_spec = item.auto
    if judge_spec is None:
        return ItemJudgement(item.code, item.points, judged=False)
    findings = _findings(judge_spec, flags, metrics)
    if findings is None:
        return ItemJudgement(item.code, item.points, judged=False)
    if item.red_line:
        return ItemJudgement(item.code, 0.0, True, None, bool(findings), findings)
    score = max(0.0, item.points - judge_spec.deduct * len(findings))
    return ItemJudgement(item.code, item.points, True, round(score, 4), False, findings)


def _findings(
    spec: AutoJudge, flags: Sequence[Flag], metrics: CallMetrics
) -> tuple[Evidence, ...] | None:
    """What counts against the item; None when its metric was not measured."""
    if spec.flags:
        if metrics.value("audio") == 0 and AUDIO_RULES.issuperset(spec.flags):
            return None  # a chat: the audio rules do not run on it
        silent = metrics.value("agent_speech_s") == 0 and not metrics.value("agent_messages")
        if silent and SCRIPT_FLAGS.issuperset(spec.flags):
            return None  # the agent never spoke: the script rules could not have fired
        wanted = spec.flags
        return tuple(
            Evidence(f.type, f.start, f.end, f.evidence) for f in flags if f.type in wanted
        )
    value = None if spec.metric is None else metrics.value(spec.metric)
    if value is None:
        return None
    outside = (spec.min is not None and value < spec.min) or (
        spec.max is not None and value > spec.max
    )
    if not outside:
        return ()
    metric = str(spec.metric)
    return metrics.evidence.get(metric, ()) or (
        Evidence(metric, 0.0, 0.0, f"{metric} = {value:g}"),
    )


def _total(card_items: Sequence[ScorecardItem], items: Sequence[ItemJudgement]) -> float:
    if any(i.violated for i in items):
        return 0.0
    weights = {i.code: i.weight for i in card_items}
    scored = [i for i in items if i.judged and i.score is not None]
    possible = sum(weights[i.code] * i.points for i in scored)
    if possible == 0:
        return 100.0
    earned = sum(weights[i.code] * (i.score or 0.0) for i in scored)
    return round(100.0 * earned / possible, 4)


__all__ = ["AutoEvaluation", "ItemJudgement", "judge"]
