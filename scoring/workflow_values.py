"""Value types of the evaluation lifecycle (质检评价流程): states, actors, versions, appeals,
events and the policy. The state machine itself is ``scoring.workflow.Evaluation``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from qa_platform.domain.errors import Conflict, QaError
from qa_platform.domain.messages import render
from scoring.calendar import WorkingCalendar
from scoring.scorecard import ItemResult, ScoreResult


class State(StrEnum):
    """Where an evaluation is in its lifecycle."""

    ASSIGNED = "assigned"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # 退回
    APPROVED = "approved"  # 复核通过
    PUBLISHED = "published"  # 已发布, appeal window open
    APPEALED = "appealed"  # 申诉中
    FINAL = "final"  # 终版


class ActorRole(StrEnum):
    """Roles that take part in the workflow."""

    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    ADMIN = "admin"
    SYSTEM = "system"


class Decision(StrEnum):
    """Outcome of an appeal review (复议结果)."""

    UPHELD = "upheld"  # 维持
    REVISED = "revised"  # 改判


@dataclass(frozen=True)
class Actor:
    """Who acts."""

    user_id: int
    role: ActorRole

    def __str__(self) -> str:
        return f"user {self.user_id} ({self.role})"


SYSTEM = Actor(0, ActorRole.SYSTEM)
REVIEWER_ROLES = frozenset({ActorRole.SUPERVISOR, ActorRole.ADMIN})
# Who a supervisor may name to re-review an appeal (复议): another inspector, or a supervisor.
APPEAL_REVIEWER_ROLES = REVIEWER_ROLES | {ActorRole.INSPECTOR}


class WorkflowError(Conflict):
    """An action that the lifecycle does not allow: says what, the current state and who.

    ``reason`` is the English text; ``reason_key`` and ``reason_params`` (a message of
    ``qa_platform/data/error_messages.yaml``) or a nested error give it in other languages.
    """

    def __init__(
        self,
        action: str,
        state: State,
        actor: Actor,
        reason: str,
        evaluation_id: Any = None,
        *,
        reason_key: str | None = None,
        reason_params: Mapping[str, Any] | None = None,
        cause: QaError | None = None,
    ) -> None:
        self.action, self.state, self.actor, self.reason = action, state, actor, reason
        self.evaluation_id = evaluation_id
        self.reason_key, self.reason_params = reason_key, dict(reason_params or {})
        self.cause = cause
        what = f"evaluation {evaluation_id}" if evaluation_id is not None else "evaluation"
        super().__init__(f"cannot {action} {what} in state '{state}' as {actor}: {reason}")

    def localized(self, lang: str) -> str:
        if lang == "en":
            return str(self)
        if self.cause is not None:
            reason = self.cause.localized(lang)
        elif self.reason_key is not None:
            reason = render(self.reason_key, self.reason_params, lang)
        else:
            reason = self.reason
        params = {
            "action": self.action,
            "state": str(self.state),
            "role": str(self.actor.role),
            "user": self.actor.user_id,
            "reason": reason,
        }
        key = "workflow.denied" if self.evaluation_id is None else "workflow.denied_id"
        return render(key, {**params, "evaluation": self.evaluation_id}, lang)


MAX_COMMENT_CHARS = 2000  # a comment is a remark, not a document


@dataclass(frozen=True)
class Comment:
    """An inspector's remark pinned to a moment of the call (秒), optionally to an item."""

    at_s: float
    text: str
    author_id: int
    item_code: str | None = None


@dataclass(frozen=True)
class EvaluationVersion:
    """One immutable version of the scores (v1 by the inspector; v2+ from revised appeals)."""

    number: int
    results: Mapping[str, ItemResult]
    comments: tuple[Comment, ...]
    author_id: int
    created_at: datetime
    score: ScoreResult | None = None
    reason: str = ""


@dataclass(frozen=True)
class Appeal:
    """An agent's appeal (申诉) and its review (复议)."""

    number: int
    filed_by: int
    filed_at: datetime
    reason: str
    disputed_items: tuple[str, ...]
    reviewer_id: int | None = None
    decision: Decision | None = None
    decided_by: int | None = None
    decided_at: datetime | None = None
    note: str = ""
    resulting_version: int | None = None


@dataclass(frozen=True)
class WorkflowEvent:
    """One transition, ready for the audit log."""

    evaluation_id: Any
    action: str
    from_state: State
    to_state: State
    actor_id: int
    actor_role: ActorRole
    at: datetime
    version: int
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowPolicy:
    """Configurable rules of the lifecycle."""

    appeal_window_working_days: int = 3
    max_appeals: int = 1
    blind_review: bool = True
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    timezone: str = "Asia/Shanghai"  # working days are counted in the centre's local dates

    def appeal_deadline(self, published_at: datetime) -> datetime:
        """Exclusive end of the appeal window for an evaluation published at ``published_at``."""
        local = (
            published_at.astimezone(ZoneInfo(self.timezone))
            if published_at.tzinfo
            else published_at
        )
        return self.calendar.deadline_after(local, self.appeal_window_working_days)
