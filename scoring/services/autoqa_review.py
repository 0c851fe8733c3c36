"""Machine suggestions on the evaluation page (机器建议): what the inspector accepted or overrode.

The inspector's scorecard form arrives pre-filled with the machine's suggestion for every item
its judge decided. On each save the entered value is compared with the suggestion: the same is
``accepted`` (采纳), a different one ``overridden`` (改判) and needs the inspector's reason.
The decisions are written by ``scoring.services.evaluations.save_scores`` in the same
transaction as the scores (the one write path); this module only computes and reads them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from qa_platform.domain.errors import Invalid
from storage.models_autoqa import AutoEvaluationRow, SuggestionDecisionRow
from storage.models_scoring import EvaluationRow, ScorecardRow

MAX_REASON_CHARS = 500
ACCEPTED, OVERRIDDEN = "accepted", "overridden"


class OverrideReasonError(Invalid):
    """An overridden suggestion without a reason, or with one too long (改判理由)."""


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The machine's suggestion (机器建议) for one item: a score, or violated for a red line."""

    code: str
    title: str
    points: float
    red_line: bool
    score: float | None
    violated: bool
    evidence: tuple[Mapping[str, Any], ...]
    auto_evaluation_id: int | None

    def shown(self) -> str:
        """The suggestion as the pages print it (``3`` or ``违规`` / ``未违规``)."""
        if self.red_line:
            return "违规" if self.violated else "未违规"
        return f"{self.score:g}" if self.score is not None else "—"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "points": self.points,
            "red_line": self.red_line,
            "score": self.score,
            "violated": self.violated,
            "evidence": [dict(e) for e in self.evidence],
            "auto_evaluation_id": self.auto_evaluation_id,
        }


@dataclass(frozen=True, slots=True)
class SuggestionDecision:
    """The inspector's decision on one suggestion: accepted or overridden (with a reason)."""

    code: str
    suggestion: Suggestion
    entered_score: float | None
    entered_violated: bool
    entered_na: bool
    decision: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "suggestion": self.suggestion.to_dict(),
            "entered_score": self.entered_score,
            "entered_violated": self.entered_violated,
            "entered_na": self.entered_na,
            "decision": self.decision,
            "reason": self.reason,
        }


def suggestions_for(session: Session, evaluation_id: int) -> dict[str, Suggestion]:
    """The judged items of the latest auto evaluation of the evaluation's call under its
    scorecard, by item code (empty when the machine has not judged the call)."""
    row = session.get(EvaluationRow, evaluation_id)
    card = session.get(ScorecardRow, row.scorecard_id) if row else None
    if row is None or card is None:
        return {}
    auto = session.scalars(
        select(AutoEvaluationRow)
        .where(
            AutoEvaluationRow.call_id == row.call_id,
            AutoEvaluationRow.scorecard_id == row.scorecard_id,
        )
        .order_by(AutoEvaluationRow.updated_at.desc(), AutoEvaluationRow.id.desc())
        .limit(1)
    ).first()
    if auto is None:
        return {}
    judged = {i["code"]: i for i in auto.items if i.get("judged")}
    out: dict[str, Suggestion] = {}
    for section in card.definition["sections"]:
        for item in section["items"]:
            found = judged.get(item["code"])
            if found is not None:
                out[item["code"]] = _suggestion(item, found, auto.id)
    return out


def _suggestion(item: Mapping[str, Any], judged: Mapping[str, Any], auto_id: int) -> Suggestion:
    score = judged.get("score")
    return Suggestion(
        code=str(item["code"]),
        title=str(item.get("title") or item["code"]),
        points=float(item.get("points") or 0),
        red_line=bool(item.get("red_line")),
        score=float(score) if score is not None else None,
        violated=bool(judged.get("violated")),
        evidence=tuple(dict(e) for e in judged.get("evidence") or ()),
        auto_evaluation_id=auto_id,
    )


def decide(
    suggestions: Mapping[str, Suggestion],
    scores: Mapping[str, Any],
    reasons: Mapping[str, str],
) -> list[SuggestionDecision]:
    """Compare the entered ``scores`` (``{code: points | "na" | violated}``) with the
    suggestions; an item left blank has no decision. An override without a reason (or with
    one over ``MAX_REASON_CHARS``) is ``OverrideReasonError`` naming the item."""
    out = []
    for code, suggestion in suggestions.items():
        if code not in scores:
            continue
        out.append(_decision(suggestion, scores[code], (reasons.get(code) or "").strip()))
    return out


def _decision(s: Suggestion, entered: Any, reason: str) -> SuggestionDecision:
    na = entered == "na"
    violated = entered is True
    score = None if na or isinstance(entered, bool) else float(entered)
    if s.red_line:
        same = violated == s.violated
    else:
        same = not na and score is not None and s.score is not None
        same = same and math.isclose(score or 0.0, s.score or 0.0, abs_tol=1e-9)
    if len(reason) > MAX_REASON_CHARS:
        raise OverrideReasonError.of(
            "autoqa.reason_too_long", title=s.title, code=s.code, limit=MAX_REASON_CHARS
        )
    if not same and not reason:
        raise OverrideReasonError.of(
            "autoqa.override_reason", title=s.title, code=s.code, suggested=s.shown()
        )
    return SuggestionDecision(
        s.code, s, score, violated, na, ACCEPTED if same else OVERRIDDEN, "" if same else reason
    )


def write_decisions(
    session: Session,
    evaluation_id: int,
    decisions: list[SuggestionDecision],
    by: int,
    at: datetime,
) -> None:
    """Replace the evaluation's stored decisions with ``decisions`` (the caller commits)."""
    session.execute(
        delete(SuggestionDecisionRow).where(SuggestionDecisionRow.evaluation_id == evaluation_id)
    )
    for d in decisions:
        session.add(
            SuggestionDecisionRow(
                evaluation_id=evaluation_id,
                auto_evaluation_id=d.suggestion.auto_evaluation_id,
                item_code=d.code,
                suggested_score=d.suggestion.score,
                suggested_violated=d.suggestion.violated,
                entered_score=d.entered_score,
                entered_violated=d.entered_violated,
                entered_na=d.entered_na,
                decision=d.decision,
                reason=d.reason,
                decided_by=by,
                decided_at=at,
            )
        )
    session.flush()


def decisions_of(
    session: Session,
    evaluation_id: int,
    suggestions: Mapping[str, Suggestion] | None = None,
) -> dict[str, SuggestionDecision]:
    """The stored decisions of an evaluation by item code, with the suggestion they answered
    (``suggestions``: this evaluation's current ones when the caller has them already)."""
    if suggestions is None:
        suggestions = suggestions_for(session, evaluation_id)
    rows = session.scalars(
        select(SuggestionDecisionRow)
        .where(SuggestionDecisionRow.evaluation_id == evaluation_id)
        .order_by(SuggestionDecisionRow.id)
    )
    out = {}
    for r in rows:
        s = suggestions.get(r.item_code)
        if s is None or s.auto_evaluation_id != r.auto_evaluation_id:
            s = _stored_suggestion(session, r)
        out[r.item_code] = SuggestionDecision(
            r.item_code,
            s,
            r.entered_score,
            r.entered_violated,
            r.entered_na,
            r.decision,
            r.reason,
        )
    return out


def _stored_suggestion(session: Session, r: SuggestionDecisionRow) -> Suggestion:
    """The suggestion as the decision row recorded it (the machine has judged again since)."""
    row = session.get(EvaluationRow, r.evaluation_id)
    card = session.get(ScorecardRow, row.scorecard_id) if row else None
    items = {
        i["code"]: i
        for sec in (card.definition if card else {"sections": []})["sections"]
        for i in sec["items"]
    }
    item = items.get(r.item_code, {"code": r.item_code})
    return Suggestion(
        r.item_code,
        str(item.get("title") or r.item_code),
        float(item.get("points") or 0),
        bool(item.get("red_line")),
        r.suggested_score,
        r.suggested_violated,
        (),
        r.auto_evaluation_id,
    )


__all__ = [
    "ACCEPTED",
    "MAX_REASON_CHARS",
    "OVERRIDDEN",
    "OverrideReasonError",
    "Suggestion",
    "SuggestionDecision",
    "decide",
    "decisions_of",
    "suggestions_for",
    "write_decisions",
]
