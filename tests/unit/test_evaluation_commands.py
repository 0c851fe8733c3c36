"""The evaluation commands against an in-memory unit: load → transition → save → audit.

The unit keeps committed evaluations with their row version; a save that expects another
version than the committed one fails like the database's ``UPDATE … WHERE row_version``.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from types import TracebackType

import pytest

from qa_platform.domain.errors import Conflict
from scoring import services as svc
from scoring.scorecard import default_scorecard
from scoring.services.evaluation_unit import apply_steps
from scoring.workflow import (
    Actor,
    ActorRole,
    Evaluation,
    State,
    WorkflowError,
    WorkflowEvent,
    WorkflowPolicy,
)
from storage.repositories import ConcurrentUpdateError, NotFoundError, StoredEvaluation

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
AGENT = Actor(1, ActorRole.AGENT)
INSPECTOR = Actor(2, ActorRole.INSPECTOR)
SUPERVISOR = Actor(3, ActorRole.SUPERVISOR)
SUPERVISOR2 = Actor(4, ActorRole.SUPERVISOR)
PEOPLE = {a.user_id: a for a in (AGENT, INSPECTOR, SUPERVISOR, SUPERVISOR2)}
CARD = default_scorecard()
FULL = {i.code: (False if i.red_line else i.points) for i in CARD.items}
EID = 7


class MemoryStore:
    """Committed state: evaluation id → (evaluation, row_version), and the audit log."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[Evaluation, int]] = {}
        self.audit: list[WorkflowEvent] = []

    def add(self, ev: Evaluation) -> None:
        self.rows[ev.id] = (copy.deepcopy(ev), 1)

    def state(self, evaluation_id: int = EID) -> State:
        return self.rows[evaluation_id][0].state

    def version(self, evaluation_id: int = EID) -> int:
        return self.rows[evaluation_id][1]


class MemoryRepository:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.pending: dict[int, tuple[Evaluation, int]] = {}

    def get(self, evaluation_id: int) -> StoredEvaluation:
        if evaluation_id not in self.store.rows:
            raise NotFoundError(f"no evaluation {evaluation_id}")
        ev, version = self.pending.get(evaluation_id) or self.store.rows[evaluation_id]
        return StoredEvaluation(copy.deepcopy(ev), version)

    def save(self, ev: Evaluation, expected_version: int, at: datetime) -> int:
        _, current = self.pending.get(ev.id) or self.store.rows[ev.id]
        if current != expected_version:
            raise ConcurrentUpdateError(
                f"evaluation {ev.id} was changed by someone else meanwhile "
                f"(expected row_version {expected_version})"
            )
        self.pending[ev.id] = (copy.deepcopy(ev), expected_version + 1)
        return expected_version + 1


class MemoryUnit(svc.EvaluationUnit):
    """One transaction over the store: saves and audit events land only on commit."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def __enter__(self) -> MemoryUnit:
        self.evaluations = MemoryRepository(self.store)
        self.events: list[WorkflowEvent] = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.events = []

    def commit(self) -> None:
        assert isinstance(self.evaluations, MemoryRepository)
        self.store.rows.update(self.evaluations.pending)
        self.store.audit.extend(self.events)

    def user_id(self, user: int | str) -> int:
        return self.actor(user).user_id

    def actor(self, user: int | str) -> Actor:
        if int(user) not in PEOPLE:
            raise NotFoundError(f"no active user {user!r}")
        return PEOPLE[int(user)]

    def record(self, by: Actor, event: WorkflowEvent) -> None:
        self.events.append(event)


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.add(Evaluation(EID, 100, AGENT.user_id, INSPECTOR.user_id, CARD, WorkflowPolicy()))
    return s


def unit(store: MemoryStore) -> MemoryUnit:
    return MemoryUnit(store)


def submitted(store: MemoryStore) -> None:
    svc.start_evaluation(unit(store), EID, INSPECTOR.user_id, at=T0)
    svc.save_scores(unit(store), EID, INSPECTOR.user_id, FULL, at=T0)
    svc.submit_evaluation(unit(store), EID, INSPECTOR.user_id, at=T0)


def published(store: MemoryStore) -> None:
    submitted(store)
    svc.approve_evaluation(unit(store), EID, SUPERVISOR.user_id, at=T0)
    svc.publish_evaluation(unit(store), EID, SUPERVISOR.user_id, at=T0)


def test_submit_moves_a_draft_to_submitted_and_audits_each_transition(store) -> None:
    submitted(store)
    assert store.state() is State.SUBMITTED
    assert [e.action for e in store.audit] == ["start", "save", "submit"]
    assert store.version() == 4


def test_return_sends_the_evaluation_back_with_the_reason(store) -> None:
    submitted(store)
    out = svc.return_evaluation(unit(store), EID, SUPERVISOR.user_id, "item 3 unclear", at=T0)
    assert out["state"] == "returned" and out["from"] == "submitted"
    assert store.rows[EID][0].return_reason == "item 3 unclear"


def test_approve_writes_version_one_and_publish_opens_the_window(store) -> None:
    published(store)
    ev = store.rows[EID][0]
    assert ev.state is State.PUBLISHED
    assert [v.number for v in ev.versions] == [1]
    assert ev.appeal_deadline is not None and ev.appeal_deadline > T0


def test_the_inspector_form_opens_scores_and_submits_in_one_commit(store) -> None:
    out = svc.save_scores(
        unit(store), EID, INSPECTOR.user_id, FULL, at=T0, open_draft=True, submit=True
    )
    assert out["state"] == "submitted"
    assert [e.action for e in store.audit] == ["start", "save", "submit"]


def test_a_failing_step_commits_none_of_the_form(store) -> None:
    with pytest.raises(WorkflowError):  # incomplete scores cannot be submitted
        svc.save_scores(
            unit(store), EID, INSPECTOR.user_id, {}, at=T0, open_draft=True, submit=True
        )
    assert store.state() is State.ASSIGNED and store.audit == [] and store.version() == 1


def test_a_stale_expected_version_is_a_conflict_and_saves_nothing(store) -> None:
    shown = store.version()
    svc.start_evaluation(unit(store), EID, INSPECTOR.user_id, at=T0)
    with pytest.raises(Conflict, match="reload the page") as caught:
        svc.save_scores(unit(store), EID, INSPECTOR.user_id, FULL, at=T0, expected_version=shown)
    assert isinstance(caught.value, svc.StaleForm)
    assert store.rows[EID][0].draft_results == {} and len(store.audit) == 1


def test_the_current_expected_version_is_accepted(store) -> None:
    svc.start_evaluation(unit(store), EID, INSPECTOR.user_id, at=T0)
    out = svc.save_scores(
        unit(store), EID, INSPECTOR.user_id, FULL, at=T0, expected_version=store.version()
    )
    assert out["action"] == "save" and store.version() == 3


def test_two_commands_with_the_same_expected_version_second_is_a_conflict(store) -> None:
    submitted(store)
    shown = store.version()
    svc.approve_evaluation(unit(store), EID, SUPERVISOR.user_id, at=T0, expected_version=shown)
    with pytest.raises(Conflict):
        svc.approve_evaluation(unit(store), EID, SUPERVISOR2.user_id, at=T0, expected_version=shown)
    assert [e.action for e in store.audit].count("approve") == 1


def test_a_save_racing_a_committed_change_is_a_concurrent_update(store) -> None:
    """Both load version v; the other commits first; this save expects v and loses."""
    submitted(store)

    def approve_after_the_other_won(ev, by, at):
        svc.approve_evaluation(unit(store), EID, SUPERVISOR2.user_id, at=T0)
        return ev.approve(by, at)

    race = unit(store)
    with race, pytest.raises(ConcurrentUpdateError):
        apply_steps(race, EID, SUPERVISOR.user_id, lambda ev: [approve_after_the_other_won], T0)
    assert issubclass(ConcurrentUpdateError, Conflict)
    assert [e.actor_id for e in store.audit if e.action == "approve"] == [SUPERVISOR2.user_id]


def test_the_original_inspector_may_not_decide_the_appeal(store) -> None:
    published(store)
    at = T0 + timedelta(hours=1)
    svc.file_appeal(unit(store), EID, AGENT.user_id, "tone was fine", ["friendly_tone"], at=at)
    with pytest.raises(WorkflowError, match="original inspector"):
        svc.decide_appeal(unit(store), EID, INSPECTOR.user_id, "upheld", at=at)
    assert store.state() is State.APPEALED


def test_an_appeal_decided_by_another_supervisor_is_final(store) -> None:
    published(store)
    at = T0 + timedelta(hours=1)
    svc.file_appeal(unit(store), EID, AGENT.user_id, "tone was fine", ["friendly_tone"], at=at)
    svc.assign_appeal_reviewer(unit(store), EID, SUPERVISOR.user_id, SUPERVISOR2.user_id, at=at)
    out = svc.decide_appeal(unit(store), EID, SUPERVISOR2.user_id, "upheld", "kept", at=at)
    assert out["state"] == "final" and out["details"]["decision"] == "upheld"


def test_an_unknown_decision_is_invalid_input(store) -> None:
    with pytest.raises(ValueError, match="'upheld' or 'revised'"):
        svc.decide_appeal(unit(store), EID, SUPERVISOR.user_id, "maybe", at=T0)


def test_an_unknown_evaluation_is_not_found(store) -> None:
    with pytest.raises(LookupError, match="no evaluation 99"):
        svc.submit_evaluation(unit(store), 99, INSPECTOR.user_id, at=T0)
