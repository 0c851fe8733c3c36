"""Evaluation lifecycle (质检评价流程) and appeals (申诉/复议) as a domain state machine.

    assigned → draft → submitted → (returned → draft) → approved → published → final
                                                         published → appealed → published | final

* The inspector (质检员) starts, scores, comments and submits.
* A supervisor (质检主管) reviews (复核): returns with a reason, or approves; then publishes.
  Publishing opens the appeal window (default 3 working days, configurable calendar).
* Only the evaluated agent (客服代表) may appeal, within the window, at most ``max_appeals``
  times, with a reason and the disputed items.
* The appeal is decided (复议) by a supervisor who is not the original inspector, optionally
  blind to the inspector's identity: upheld, or revised. A revision appends a NEW version;
  earlier versions are never changed.
* When the window closes (or the last allowed appeal is decided) the evaluation is final.

Every method checks who may act in which state, raises ``WorkflowError`` otherwise, and returns
a ``WorkflowEvent`` for the audit log.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from qa_platform.domain.errors import QaError
from qa_platform.domain.messages import render
from scoring.scorecard import ItemResult, Scorecard, ScorecardError
from scoring.workflow_values import (
    APPEAL_REVIEWER_ROLES,
    MAX_COMMENT_CHARS,
    REVIEWER_ROLES,
    SYSTEM,
    Actor,
    ActorRole,
    Appeal,
    Comment,
    Decision,
    EvaluationVersion,
    State,
    WorkflowError,
    WorkflowEvent,
    WorkflowPolicy,
)

__all__ = [
    "APPEAL_REVIEWER_ROLES",
    "MAX_COMMENT_CHARS",
    "REVIEWER_ROLES",
    "SYSTEM",
    "Actor",
    "ActorRole",
    "Appeal",
    "Comment",
    "Decision",
    "Evaluation",
    "EvaluationVersion",
    "State",
    "WorkflowError",
    "WorkflowEvent",
    "WorkflowPolicy",
]


@dataclass
class Evaluation:
    """One call's evaluation (质检评价) with all its versions and appeals."""

    id: Any
    call_id: int
    agent_id: int
    inspector_id: int
    scorecard: Scorecard
    policy: WorkflowPolicy = field(default_factory=WorkflowPolicy)
    state: State = State.ASSIGNED
    versions: list[EvaluationVersion] = field(default_factory=list)
    appeals: list[Appeal] = field(default_factory=list)
    draft_results: dict[str, ItemResult] = field(default_factory=dict)
    draft_comments: list[Comment] = field(default_factory=list)
    published_at: datetime | None = None
    appeal_deadline: datetime | None = None
    call_duration_s: float | None = None
    return_reason: str = ""

    # ------------------------------------------------------------------ queries
    @property
    def current_version(self) -> EvaluationVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def final_version(self) -> EvaluationVersion | None:
        """The one final version, once the evaluation is final."""
        return self.current_version if self.state is State.FINAL else None

    @property
    def open_appeal(self) -> Appeal | None:
        return self.appeals[-1] if self.state is State.APPEALED else None

    def appeal_window_open(self, at: datetime) -> bool:
        """True while the evaluation is published and ``at`` is before the deadline."""
        return (
            self.state is State.PUBLISHED
            and self.appeal_deadline is not None
            and at < self.appeal_deadline
        )

    def reviewer_view(self, actor: Actor) -> dict[str, Any]:
        """What an appeal reviewer sees; the inspector's identity is hidden when blind."""
        version = self.current_version
        view: dict[str, Any] = {
            "id": self.id,
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "state": str(self.state),
            "version": version.number if version else None,
            "results": dict(version.results) if version else {},
            "appeal": self.appeals[-1] if self.appeals else None,
        }
        blind = self.policy.blind_review and actor.user_id != self.inspector_id
        view["inspector_id"] = None if blind else self.inspector_id
        return view

    # ------------------------------------------------------------------ helpers
    def _fail(self, action: str, actor: Actor, reason: str, /, **params: Any) -> WorkflowError:
        """The refusal of ``action``: ``reason`` is a message key (``workflow.reason.*``)."""
        key = f"workflow.reason.{reason}"
        text = render(key, params, "en")
        return WorkflowError(
            action, self.state, actor, text, self.id, reason_key=key, reason_params=params
        )

    def _fail_from(self, action: str, actor: Actor, cause: QaError) -> WorkflowError:
        """The refusal of ``action`` because of another error (a scorecard check)."""
        return WorkflowError(action, self.state, actor, str(cause), self.id, cause=cause)

    def _require(self, action: str, actor: Actor, states: Iterable[State]) -> None:
        allowed = tuple(states)
        if self.state not in allowed:
            raise self._fail(action, actor, "state", states=[str(s) for s in allowed])

    def _require_inspector(self, action: str, actor: Actor) -> None:
        if actor.role is not ActorRole.INSPECTOR or actor.user_id != self.inspector_id:
            raise self._fail(action, actor, "inspector_only", inspector=self.inspector_id)

    def _require_reviewer_role(self, action: str, actor: Actor) -> None:
        if actor.role not in REVIEWER_ROLES:
            raise self._fail(action, actor, "supervisor_only")

    def _move(
        self, action: str, actor: Actor, at: datetime, to: State, **details: Any
    ) -> WorkflowEvent:
        before, self.state = self.state, to
        number = self.current_version.number if self.current_version else 0
        return WorkflowEvent(
            self.id, action, before, to, actor.user_id, actor.role, at, number, details
        )

    # ------------------------------------------------------------------ inspector
    def start(self, by: Actor, at: datetime) -> WorkflowEvent:
        """The inspector opens the assigned call (assigned → draft)."""
        self._require("start", by, [State.ASSIGNED])
        self._require_inspector("start", by)
        return self._move("start", by, at, State.DRAFT)

    def record_scores(
        self, results: Iterable[ItemResult], by: Actor, at: datetime
    ) -> WorkflowEvent:
        """Save (part of) the draft scores; later saves replace earlier ones per item."""
        self._require("save scores of", by, [State.DRAFT])
        self._require_inspector("save scores of", by)
        try:
            checked = self.scorecard.check_results(results)
        except ScorecardError as exc:
            raise self._fail_from("save scores of", by, exc) from None
        self.draft_results.update(checked)
        return self._move("save", by, at, State.DRAFT, items=sorted(checked))

    def add_comment(self, comment: Comment, by: Actor, at: datetime) -> WorkflowEvent:
        """Pin a comment to a moment of the call (and optionally to an item)."""
        self._require("comment on", by, [State.DRAFT])
        self._require_inspector("comment on", by)
        self._check_comment(comment, by)
        self.draft_comments.append(comment)
        return self._move("comment", by, at, State.DRAFT, at_s=comment.at_s, item=comment.item_code)

    def _check_comment(self, comment: Comment, by: Actor) -> None:
        if not comment.text.strip():
            raise self._fail("comment on", by, "comment_empty")
        if len(comment.text) > MAX_COMMENT_CHARS:
            raise self._fail("comment on", by, "comment_too_long", limit=MAX_COMMENT_CHARS)
        limit = self.call_duration_s
        if (
            not isinstance(comment.at_s, int | float)
            or not math.isfinite(comment.at_s)
            or comment.at_s < 0
            or (limit is not None and comment.at_s > limit)
        ):
            raise self._fail("comment on", by, "comment_time", at=comment.at_s, limit=limit)
        if comment.item_code is not None:
            try:
                self.scorecard.item(comment.item_code)
            except ScorecardError as exc:
                raise self._fail_from("comment on", by, exc) from None

    def submit(self, by: Actor, at: datetime) -> WorkflowEvent:
        """Submit the complete draft for review (draft → submitted)."""
        self._require("submit", by, [State.DRAFT])
        self._require_inspector("submit", by)
        try:
            score = self.scorecard.score(self.draft_results.values())
        except ScorecardError as exc:
            raise self._fail_from("submit", by, exc) from None
        return self._move("submit", by, at, State.SUBMITTED, total=score.total, passed=score.passed)

    def reopen(self, by: Actor, at: datetime) -> WorkflowEvent:
        """The inspector reworks a returned evaluation (returned → draft)."""
        self._require("reopen", by, [State.RETURNED])
        self._require_inspector("reopen", by)
        return self._move("reopen", by, at, State.DRAFT)

    # ------------------------------------------------------------------ supervisor
    def return_for_rework(self, reason: str, by: Actor, at: datetime) -> WorkflowEvent:
        """Review (复核) finds a problem: back to the inspector with a reason."""
        self._require("return", by, [State.SUBMITTED])
        self._require_reviewer_role("return", by)
        if not reason or not reason.strip():
            raise self._fail("return", by, "reason_required")
        self.return_reason = reason
        return self._move("return", by, at, State.RETURNED, reason=reason)

    def approve(self, by: Actor, at: datetime) -> WorkflowEvent:
        """Review passes (submitted → approved); the approver is not the inspector."""
        self._require("approve", by, [State.SUBMITTED])
        self._require_reviewer_role("approve", by)
        if by.user_id == self.inspector_id:
            raise self._fail("approve", by, "own_approval")
        score = self.scorecard.score(self.draft_results.values())
        version = EvaluationVersion(
            1, dict(self.draft_results), tuple(self.draft_comments), self.inspector_id, at, score
        )
        self.versions = [version]
        return self._move("approve", by, at, State.APPROVED, total=score.total)

    def publish(self, by: Actor, at: datetime) -> WorkflowEvent:
        """Publish the approved result to the agent and open the appeal window."""
        self._require("publish", by, [State.APPROVED])
        self._require_reviewer_role("publish", by)
        self.published_at = at
        self.appeal_deadline = self.policy.appeal_deadline(at)
        return self._move(
            "publish", by, at, State.PUBLISHED, appeal_deadline=self.appeal_deadline.isoformat()
        )

    def reassign(self, inspector_id: int, by: Actor, at: datetime) -> WorkflowEvent:
        """Give the work to another inspector (e.g. the first is away) before submission."""
        self._require("reassign", by, [State.ASSIGNED, State.DRAFT, State.RETURNED])
        self._require_reviewer_role("reassign", by)
        if inspector_id == self.agent_id:
            raise self._fail("reassign", by, "own_call")
        previous, self.inspector_id = self.inspector_id, inspector_id
        return self._move(
            "reassign", by, at, self.state, previous=previous, inspector_id=inspector_id
        )

    # ------------------------------------------------------------------ appeals
    def file_appeal(
        self, reason: str, disputed_items: Iterable[str], by: Actor, at: datetime
    ) -> WorkflowEvent:
        """The evaluated agent appeals (申诉) within the window."""
        self._require("appeal", by, [State.PUBLISHED])
        if by.role is not ActorRole.AGENT or by.user_id != self.agent_id:
            raise self._fail("appeal", by, "agent_only", agent=self.agent_id)
        if self.appeal_deadline is None or at >= self.appeal_deadline:
            raise self._fail("appeal", by, "window_closed", deadline=self.appeal_deadline)
        if len(self.appeals) >= self.policy.max_appeals:
            raise self._fail("appeal", by, "max_appeals", limit=self.policy.max_appeals)
        items = self._check_appeal_input(reason, disputed_items, by)
        self.appeals.append(Appeal(len(self.appeals) + 1, by.user_id, at, reason.strip(), items))
        return self._move(
            "appeal", by, at, State.APPEALED, reason=reason.strip(), items=list(items)
        )

    def _check_appeal_input(
        self, reason: str, disputed: Iterable[str], by: Actor
    ) -> tuple[str, ...]:
        if not reason or not reason.strip():
            raise self._fail("appeal", by, "reason_required")
        items = tuple(dict.fromkeys(disputed))
        if not items:
            raise self._fail("appeal", by, "disputed_items")
        for code in items:
            try:
                self.scorecard.item(code)
            except ScorecardError as exc:
                raise self._fail_from("appeal", by, exc) from None
        return items

    def assign_reviewer(self, reviewer_id: int, by: Actor, at: datetime) -> WorkflowEvent:
        """Choose who re-reviews the appeal (复议人); never the original inspector or the agent."""
        self._require("assign a reviewer to", by, [State.APPEALED])
        self._require_reviewer_role("assign a reviewer to", by)
        if reviewer_id in (self.inspector_id, self.agent_id):
            raise self._fail("assign a reviewer to", by, "reviewer_conflict")
        self.appeals[-1] = replace(self.appeals[-1], reviewer_id=reviewer_id)
        return self._move("assign_reviewer", by, at, State.APPEALED, reviewer_id=reviewer_id)

    def decide_appeal(
        self,
        decision: Decision,
        by: Actor,
        at: datetime,
        note: str = "",
        revised_results: Iterable[ItemResult] | None = None,
    ) -> WorkflowEvent:
        """Decide the open appeal: upheld (维持) or revised (改判, a new version)."""
        self._require("decide the appeal of", by, [State.APPEALED])
        self._check_decider(by)
        appeal = self.appeals[-1]
        new_version = self._revision(decision, by, at, note, revised_results)
        self.appeals[-1] = replace(
            appeal,
            decision=Decision(decision),
            decided_by=by.user_id,
            decided_at=at,
            note=note,
            resulting_version=new_version.number if new_version else None,
        )
        if new_version is not None:
            self.versions.append(new_version)
        more = len(self.appeals) < self.policy.max_appeals
        to = (
            State.PUBLISHED
            if more and self.appeal_deadline and at < self.appeal_deadline
            else State.FINAL
        )
        return self._move("decide_appeal", by, at, to, decision=str(decision), appeal=appeal.number)

    def _check_decider(self, by: Actor) -> None:
        action = "decide the appeal of"
        if by.user_id in (self.inspector_id, self.agent_id):
            raise self._fail(action, by, "decider_conflict")
        assigned = self.appeals[-1].reviewer_id
        if by.role is ActorRole.INSPECTOR and assigned != by.user_id:
            raise self._fail(action, by, "decider_not_assigned")
        if by.role is not ActorRole.INSPECTOR:
            self._require_reviewer_role(action, by)
        if assigned is not None and assigned != by.user_id:
            raise self._fail(action, by, "assigned_to_other", reviewer=assigned)

    def _revision(
        self,
        decision: Decision,
        by: Actor,
        at: datetime,
        note: str,
        results: Iterable[ItemResult] | None,
    ) -> EvaluationVersion | None:
        action = "decide the appeal of"
        if Decision(decision) is Decision.UPHELD:
            if results is not None:
                raise self._fail(action, by, "upheld_with_results")
            return None
        if results is None:
            raise self._fail(action, by, "revised_without_results")
        current = self.current_version
        assert current is not None
        merged = {**current.results, **{r.code: r for r in results}}
        try:
            score = self.scorecard.score(merged.values())
        except ScorecardError as exc:
            raise self._fail_from(action, by, exc) from None
        reason = note or f"appeal {self.appeals[-1].number} revised"
        return EvaluationVersion(
            current.number + 1, merged, current.comments, by.user_id, at, score, reason
        )

    def close_window(self, at: datetime, by: Actor = SYSTEM) -> WorkflowEvent:
        """The appeal window has passed without an open appeal: the evaluation is final."""
        self._require("close the appeal window of", by, [State.PUBLISHED])
        if self.appeal_deadline is None or at < self.appeal_deadline:
            raise self._fail(
                "close the appeal window of", by, "window_open", deadline=self.appeal_deadline
            )
        return self._move("finalise", by, at, State.FINAL)


TRANSITIONS: Mapping[State, frozenset[State]] = {
    State.ASSIGNED: frozenset({State.DRAFT}),
    State.DRAFT: frozenset({State.SUBMITTED}),
    State.SUBMITTED: frozenset({State.RETURNED, State.APPROVED}),
    State.RETURNED: frozenset({State.DRAFT}),
    State.APPROVED: frozenset({State.PUBLISHED}),
    State.PUBLISHED: frozenset({State.APPEALED, State.FINAL}),
    State.APPEALED: frozenset({State.PUBLISHED, State.FINAL}),
    State.FINAL: frozenset(),
}
"""Every state change the machine can make (self-loops such as saving a draft excluded)."""
