"""Evaluations (质检评价) in the database: rows ↔ ``scoring.workflow.Evaluation``.

``get`` loads an evaluation with its versions and appeals and the row's ``row_version``;
``save`` writes it back with ``UPDATE evaluations … WHERE id = :id AND row_version = :v``. If
another transaction changed the row first, no row matches and ``ConcurrentUpdateError`` is
raised (the caller's transaction rolls back), so of two supervisors approving or deciding at
once exactly one wins. New versions and appeals are appended; stored versions never change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast, overload

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from scoring.scorecard import ItemResult, Scorecard, scorecard_from_mapping
from scoring.workflow import (
    Appeal,
    Comment,
    Decision,
    Evaluation,
    EvaluationVersion,
    State,
    WorkflowPolicy,
)
from storage.models import Call
from storage.models_scoring import (
    AppealRow,
    EvaluationCommentRow,
    EvaluationRow,
    EvaluationVersionRow,
    ItemScoreRow,
    ScorecardRow,
)
from storage.repositories.errors import ConcurrentUpdateError, NotFoundError


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation as loaded, with the ``row_version`` a save must expect."""

    evaluation: Evaluation
    row_version: int


@dataclass(frozen=True)
class _Seen:
    versions: int
    appeals: tuple[Appeal, ...]


class SqlEvaluationRepository:
    """Evaluations in the session of one unit of work."""

    def __init__(self, session: Session, policy: WorkflowPolicy | None = None) -> None:
        self.session = session
        self.policy = policy or WorkflowPolicy()
        self._seen: dict[int, _Seen] = {}

    def get(self, evaluation_id: int) -> StoredEvaluation:
        """The evaluation and its current ``row_version``; ``NotFoundError`` if there is none."""
        row = self.session.get(EvaluationRow, evaluation_id)
        if row is None:
            raise NotFoundError(f"no evaluation {evaluation_id}")
        ev = load_evaluation(self.session, row, self.policy)
        self._seen[row.id] = _Seen(len(ev.versions), tuple(ev.appeals))
        return StoredEvaluation(ev, row.row_version)

    def save(self, ev: Evaluation, expected_version: int, at: datetime) -> int:
        """Write ``ev`` back if the row is still at ``expected_version``; the new version."""
        row = self.session.get(EvaluationRow, ev.id)
        if row is None:
            raise NotFoundError(f"no evaluation {ev.id}")
        seen = self._seen.get(row.id) or _Seen(0, ())
        scorecard_id = row.scorecard_id
        _write(self.session, row.id, ev, expected_version, at)
        _write_versions(self.session, row.id, scorecard_id, ev.versions[seen.versions :])
        _write_appeals(self.session, row.id, list(seen.appeals), ev.appeals)
        self._seen[row.id] = _Seen(len(ev.versions), tuple(ev.appeals))
        self.session.expire(row)
        return expected_version + 1


# ------------------------------------------------------------------------------ scorecards
_CARDS: OrderedDict[tuple[int, str], Scorecard] = OrderedDict()
_CARDS_MAX = 256  # scorecard versions kept parsed per process (a centre has a few dozen)
_CARDS_LOCK = threading.Lock()


def card_of_row(row: ScorecardRow) -> Scorecard:
    """The domain scorecard of a stored version, parsed once per process and version.

    A stored version never changes (a new definition is a new row with its own id and
    fingerprint), so ``(id, fingerprint)`` names the parsed object: no re-serialising or
    re-validating the definition on every page or command.
    """
    key = (row.id, row.fingerprint)
    with _CARDS_LOCK:
        card = _CARDS.get(key)
        if card is not None:
            _CARDS.move_to_end(key)
            return card
    card = scorecard_from_mapping(row.definition)
    with _CARDS_LOCK:
        _CARDS[key] = card
        while len(_CARDS) > _CARDS_MAX:
            _CARDS.popitem(last=False)
    return card


def _card(s: Session, scorecard_id: int) -> Scorecard:
    row = s.get(ScorecardRow, scorecard_id)
    if row is None:
        raise NotFoundError(f"no scorecard {scorecard_id}")
    return card_of_row(row)


# ------------------------------------------------------------------------------ JSON
@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def results_to_json(results: Mapping[str, ItemResult]) -> dict[str, Any]:
    """Item results as stored in a draft (and shown by ``qa eval show``)."""
    return {c: {"score": r.score, "na": r.na, "violated": r.violated} for c, r in results.items()}


def _results_from_json(data: Mapping[str, Any]) -> dict[str, ItemResult]:
    return {
        c: ItemResult(c, v.get("score"), bool(v.get("na")), bool(v.get("violated")))
        for c, v in data.items()
    }


def comment_to_json(c: Comment) -> dict[str, Any]:
    """A pinned comment as stored in a draft (and shown by ``qa eval show``)."""
    return {"at_s": c.at_s, "text": c.text, "author_id": c.author_id, "item_code": c.item_code}


def _comments_from_json(data: Iterable[Mapping[str, Any]]) -> list[Comment]:
    return [
        Comment(float(c["at_s"]), c["text"], int(c["author_id"]), c.get("item_code")) for c in data
    ]


# ------------------------------------------------------------------------------ load
def load_evaluation(s: Session, row: EvaluationRow, policy: WorkflowPolicy) -> Evaluation:
    """The domain evaluation of a row, with its versions and appeals."""
    card = _card(s, row.scorecard_id)
    duration = s.scalar(select(Call.duration_s).where(Call.id == row.call_id))
    return Evaluation(
        row.id,
        row.call_id,
        row.agent_id,
        row.inspector_id,
        card,
        policy,
        State(row.state),
        versions=_load_versions(s, row.id, card),
        appeals=_load_appeals(s, row.id),
        draft_results=_results_from_json(row.draft.get("results", {})),
        draft_comments=_comments_from_json(row.draft.get("comments", [])),
        published_at=aware(row.published_at),
        appeal_deadline=aware(row.appeal_deadline),
        call_duration_s=duration,
        return_reason=row.return_reason,
    )


def _load_versions(s: Session, evaluation_id: int, card: Scorecard) -> list[EvaluationVersion]:
    versions = []
    rows = s.scalars(
        select(EvaluationVersionRow)
        .where(EvaluationVersionRow.evaluation_id == evaluation_id)
        .order_by(EvaluationVersionRow.number)
    ).all()
    for v in rows:
        items = s.scalars(select(ItemScoreRow).where(ItemScoreRow.version_id == v.id)).all()
        results = {i.item_code: ItemResult(i.item_code, i.score, i.na, i.violated) for i in items}
        comments = tuple(
            Comment(c.at_s, c.text, c.author_id, c.item_code)
            for c in s.scalars(
                select(EvaluationCommentRow)
                .where(EvaluationCommentRow.version_id == v.id)
                .order_by(EvaluationCommentRow.id)
            )
        )
        versions.append(
            EvaluationVersion(
                v.number,
                results,
                comments,
                v.author_id,
                aware(v.created_at),
                card.score(results.values()),
                v.reason,
            )
        )
    return versions


def _load_appeals(s: Session, evaluation_id: int) -> list[Appeal]:
    rows = s.scalars(
        select(AppealRow).where(AppealRow.evaluation_id == evaluation_id).order_by(AppealRow.number)
    ).all()
    return [
        Appeal(
            a.number,
            a.filed_by,
            aware(a.filed_at),
            a.reason,
            tuple(a.disputed_items),
            a.reviewer_id,
            Decision(a.decision) if a.decision else None,
            a.decided_by,
            aware(a.decided_at),
            a.note,
            a.resulting_version,
        )
        for a in rows
    ]


# ------------------------------------------------------------------------------ save
def _write(
    s: Session, evaluation_id: int, ev: Evaluation, expected_version: int, at: datetime
) -> None:
    current = ev.current_version
    values = {
        "state": str(ev.state),
        "inspector_id": ev.inspector_id,
        "return_reason": ev.return_reason,
        "draft": {
            "results": results_to_json(ev.draft_results),
            "comments": [comment_to_json(c) for c in ev.draft_comments],
        },
        "published_at": ev.published_at,
        "appeal_deadline": ev.appeal_deadline,
        "current_version": current.number if current else 0,
        "total": current.score.total if current and current.score else None,
        "passed": current.score.passed if current and current.score else None,
        "row_version": expected_version + 1,
        "updated_at": at,
    }
    result = s.execute(
        update(EvaluationRow)
        .where(EvaluationRow.id == evaluation_id, EvaluationRow.row_version == expected_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:  # an UPDATE's result counts its rows
        raise ConcurrentUpdateError(
            f"evaluation {evaluation_id} was changed by someone else meanwhile (expected "
            f"row_version {expected_version}); reload it and try again"
        )


def _write_versions(
    s: Session, evaluation_id: int, scorecard_id: int, new: Iterable[EvaluationVersion]
) -> None:
    card = _card(s, scorecard_id)
    for v in new:
        assert v.score is not None
        vrow = EvaluationVersionRow(
            evaluation_id=evaluation_id,
            number=v.number,
            scorecard_id=scorecard_id,
            total=v.score.total,
            passed=v.score.passed,
            red_line_violations=list(v.score.red_line_violations),
            category_errors=dict(v.score.category_errors),
            author_id=v.author_id,
            reason=v.reason,
            created_at=v.created_at,
        )
        s.add(vrow)
        s.flush()
        s.add_all(
            ItemScoreRow(
                version_id=vrow.id,
                item_code=r.code,
                category=str(card.item(r.code).category),
                score=r.score,
                max_points=card.item(r.code).points,
                na=r.na,
                violated=r.violated,
            )
            for r in v.results.values()
        )
        s.add_all(
            EvaluationCommentRow(
                version_id=vrow.id,
                at_s=c.at_s,
                item_code=c.item_code,
                text=c.text,
                author_id=c.author_id,
            )
            for c in v.comments
        )


def _write_appeals(
    s: Session, evaluation_id: int, before: list[Appeal], after: list[Appeal]
) -> None:
    for appeal in after:
        if appeal in before:
            continue
        fields = {
            "filed_by": appeal.filed_by,
            "filed_at": appeal.filed_at,
            "reason": appeal.reason,
            "disputed_items": list(appeal.disputed_items),
            "reviewer_id": appeal.reviewer_id,
            "decision": str(appeal.decision) if appeal.decision else None,
            "decided_by": appeal.decided_by,
            "decided_at": appeal.decided_at,
            "note": appeal.note,
            "resulting_version": appeal.resulting_version,
        }
        existing = s.scalar(
            select(AppealRow).where(
                AppealRow.evaluation_id == evaluation_id, AppealRow.number == appeal.number
            )
        )
        if existing is None:
            s.add(AppealRow(evaluation_id=evaluation_id, number=appeal.number, **fields))
        else:
            for key, value in fields.items():
                setattr(existing, key, value)
    s.flush()
