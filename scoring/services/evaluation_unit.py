"""The unit the evaluation commands run in: a repository, who acts, an audit log (评价工作单元).

``apply_steps`` is the pipeline of every evaluation command: load through the repository,
check the version the caller expects, then per step one domain transition, a save under the
``row_version`` guard and an audit event. ``SqlEvaluationUnit`` is the database behind it;
tests put an in-memory unit in its place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol

from qa_platform.settings import Settings
from scoring.calendar import WorkingCalendar
from scoring.services import coaching
from scoring.services.common import StaleForm, actor_for, audit, load_user
from scoring.workflow import Actor, Evaluation, WorkflowEvent, WorkflowPolicy
from storage.repositories.evaluations import SqlEvaluationRepository, StoredEvaluation
from storage.uow import UnitOfWork

Step = Callable[[Evaluation, Actor, datetime], WorkflowEvent]
Steps = Callable[[Evaluation], Sequence[Step]]
Who = int | str | Actor


class EvaluationRepository(Protocol):
    """Evaluations by id; ``save`` refuses a version that is no longer current."""

    def get(self, evaluation_id: int) -> StoredEvaluation: ...

    def save(self, ev: Evaluation, expected_version: int, at: datetime) -> int: ...


class EvaluationUnit(ABC):
    """One transaction as the commands see it: the repository, who acts, the audit log."""

    evaluations: EvaluationRepository

    @abstractmethod
    def __enter__(self) -> EvaluationUnit: ...

    @abstractmethod
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def user_id(self, user: int | str) -> int:
        """The id of an active user (id or username)."""

    @abstractmethod
    def actor(self, user: int | str) -> Actor:
        """An active user as a workflow actor."""

    @abstractmethod
    def record(self, by: Actor, event: WorkflowEvent) -> None:
        """Audit one transition."""


class SqlEvaluationUnit(EvaluationUnit):
    """The database behind the commands: a storage unit of work and its session."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def __enter__(self) -> SqlEvaluationUnit:
        self.uow.__enter__()
        try:
            return self.bind()
        except BaseException as exc:
            self.uow.__exit__(type(exc), exc, exc.__traceback__)
            raise

    def bind(self) -> SqlEvaluationUnit:
        """Use the session of a unit of work that is already open."""
        policy = workflow_policy(self.uow.settings)
        self.evaluations = SqlEvaluationRepository(self.uow.session, policy)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uow.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self.uow.commit()

    def user_id(self, user: int | str) -> int:
        return load_user(self.uow.session, user).id

    def actor(self, user: int | str) -> Actor:
        return actor_for(self.uow.session, user)

    def record(self, by: Actor, event: WorkflowEvent) -> None:
        details = dict(event.details) | {
            "from": str(event.from_state),
            "to": str(event.to_state),
            "version": event.version,
        }
        action = f"evaluation.{event.action}"
        audit(
            self.uow.session,
            by.user_id,
            action,
            "evaluation",
            event.evaluation_id,
            details,
            event.at,
        )
        coaching.react(self.uow.session, event)  # 辅导: opened, withdrawn or checked here


def workflow_policy(settings: Settings) -> WorkflowPolicy:
    """The lifecycle rules configured for the centre (appeal window, calendar, blind review)."""
    path = settings.holiday_calendar_path
    return WorkflowPolicy(
        appeal_window_working_days=settings.appeal_window_working_days,
        max_appeals=settings.appeal_max_per_evaluation,
        blind_review=settings.appeal_blind_review,
        calendar=WorkingCalendar.load(path) if path else WorkingCalendar(),
        timezone=getattr(settings, "centre_timezone", "Asia/Shanghai"),
    )


# ------------------------------------------------------------------------------ the pipeline
def apply_steps(
    unit: EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    steps: Steps,
    at: datetime,
    expected_version: int | None = None,
) -> WorkflowEvent:
    """Load, check the expected version, then per step: transition, save, audit."""
    return apply_steps_versioned(unit, evaluation_id, actor, steps, at, expected_version)[0]


def apply_steps_versioned(
    unit: EvaluationUnit,
    evaluation_id: int,
    actor: Who,
    steps: Steps,
    at: datetime,
    expected_version: int | None = None,
) -> tuple[WorkflowEvent, int]:
    """``apply_steps`` that also answers the ``row_version`` the evaluation was left at (a page
    that keeps editing after an autosave sends it as its next expected version)."""
    stored = unit.evaluations.get(evaluation_id)
    if expected_version is not None and stored.row_version != expected_version:
        raise StaleForm.of(
            "evaluation.stale_form",
            evaluation=evaluation_id,
            expected=expected_version,
            now=stored.row_version,
        )
    by = actor if isinstance(actor, Actor) else unit.actor(actor)
    ev, version = stored.evaluation, stored.row_version
    events = []
    for step in steps(ev):
        event = step(ev, by, at)
        version = unit.evaluations.save(ev, version, at)
        unit.record(by, event)
        events.append(event)
    return events[-1], version
