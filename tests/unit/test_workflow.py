"""Evaluation and appeal lifecycle: examples, the working calendar, and a stateful test."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from scoring.calendar import CalendarError, WorkingCalendar
from scoring.scorecard import default_scorecard, results_from_mapping
from scoring.workflow import (
    Actor,
    ActorRole,
    Comment,
    Decision,
    Evaluation,
    State,
    WorkflowError,
    WorkflowPolicy,
)

CARD = default_scorecard()
INSPECTOR = Actor(10, ActorRole.INSPECTOR)
OTHER_INSPECTOR = Actor(11, ActorRole.INSPECTOR)
SUPERVISOR = Actor(20, ActorRole.SUPERVISOR)
SUPERVISOR_2 = Actor(21, ActorRole.SUPERVISOR)
AGENT = Actor(30, ActorRole.AGENT)
OTHER_AGENT = Actor(31, ActorRole.AGENT)
T0 = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai


def full_results(**overrides):
    values = {i.code: (False if i.red_line else i.points) for i in CARD.items}
    values.update(overrides)
    return results_from_mapping(values)


def new_eval(policy: WorkflowPolicy | None = None) -> Evaluation:
    return Evaluation(
        1,
        call_id=500,
        agent_id=AGENT.user_id,
        inspector_id=INSPECTOR.user_id,
        scorecard=CARD,
        policy=policy or WorkflowPolicy(),
        call_duration_s=180.0,
    )


def published(policy: WorkflowPolicy | None = None) -> Evaluation:
    ev = new_eval(policy)
    ev.start(INSPECTOR, T0)
    ev.record_scores(full_results(answer_accuracy=10.0), INSPECTOR, T0)
    ev.submit(INSPECTOR, T0)
    ev.approve(SUPERVISOR, T0)
    ev.publish(SUPERVISOR, T0)
    return ev


# ---------------------------------------------------------------- calendar
def test_working_days_skip_weekends_and_holidays_and_count_makeup_days() -> None:
    cal = WorkingCalendar(
        holidays=frozenset({date(2026, 3, 9)}), makeup_workdays=frozenset({date(2026, 3, 8)})
    )
    # Fri 6 Mar → Sun 8 (make-up), [Mon 9 holiday], Tue 10, Wed 11
    assert cal.add_working_days(date(2026, 3, 6), 3) == date(2026, 3, 11)
    assert WorkingCalendar().add_working_days(date(2026, 3, 6), 3) == date(2026, 3, 11)
    assert not cal.is_working_day(date(2026, 3, 9)) and cal.is_working_day(date(2026, 3, 8))


def test_calendar_rejects_bad_data() -> None:
    with pytest.raises(CalendarError, match="both a holiday and a make-up"):
        WorkingCalendar.from_mapping(
            {"holidays": ["2026-10-01"], "makeup_workdays": ["2026-10-01"]}
        )
    with pytest.raises(CalendarError, match="not a YYYY-MM-DD"):
        WorkingCalendar.from_mapping({"holidays": ["1 Oct"]})


def test_appeal_deadline_is_end_of_third_working_day_in_local_time() -> None:
    ev = published()
    # published Friday → Mon, Tue, Wed → closes Thursday 00:00 Asia/Shanghai = Wed 16:00 UTC
    assert ev.appeal_deadline == datetime(2026, 3, 12, 0, 0, tzinfo=ev.appeal_deadline.tzinfo)
    assert ev.appeal_deadline.astimezone(UTC) == datetime(2026, 3, 11, 16, 0, tzinfo=UTC)


# ---------------------------------------------------------------- happy paths
def test_full_lifecycle_without_appeal() -> None:
    ev = published()
    with pytest.raises(WorkflowError, match="window is open"):
        ev.close_window(T0 + timedelta(days=1))
    event = ev.close_window(ev.appeal_deadline)
    assert (event.from_state, event.to_state) == (State.PUBLISHED, State.FINAL)
    assert ev.final_version is ev.versions[0] and len(ev.versions) == 1


def test_another_inspector_assigned_to_an_appeal_may_decide_it() -> None:
    """复议 by a different inspector: allowed once assigned, refused when not assigned."""
    other = Actor(11, ActorRole.INSPECTOR)
    stranger = Actor(12, ActorRole.INSPECTOR)
    ev = published()
    ev.file_appeal("答复与知识库一致", ["answer_accuracy"], AGENT, T0 + timedelta(hours=1))
    with pytest.raises(WorkflowError, match="only an appeal assigned to them"):
        ev.decide_appeal(Decision.UPHELD, other, T0)
    ev.assign_reviewer(other.user_id, SUPERVISOR, T0)
    with pytest.raises(WorkflowError, match="only an appeal assigned to them"):
        ev.decide_appeal(Decision.UPHELD, stranger, T0)
    with pytest.raises(WorkflowError, match="original inspector"):
        ev.decide_appeal(Decision.UPHELD, INSPECTOR, T0)
    event = ev.decide_appeal(
        Decision.REVISED,
        other,
        T0 + timedelta(hours=2),
        "部分采纳",
        results_from_mapping({"answer_accuracy": 18.0}),
    )
    assert event.to_state is State.FINAL and ev.appeals[-1].decided_by == other.user_id


def test_return_and_rework() -> None:
    ev = new_eval()
    ev.start(INSPECTOR, T0)
    ev.record_scores(full_results(), INSPECTOR, T0)
    ev.submit(INSPECTOR, T0)
    event = ev.return_for_rework("核身项打分依据不足", SUPERVISOR, T0)
    assert event.details["reason"] == "核身项打分依据不足" and ev.state is State.RETURNED
    ev.reopen(INSPECTOR, T0)
    ev.record_scores(results_from_mapping({"identity_check": 5.0}), INSPECTOR, T0)
    ev.submit(INSPECTOR, T0)
    ev.approve(SUPERVISOR, T0)
    assert ev.versions[0].results["identity_check"].score == 5.0


def test_revised_appeal_creates_a_new_version_and_keeps_the_old() -> None:
    ev = published()
    ev.file_appeal("答复与知识库一致", ["answer_accuracy"], AGENT, T0 + timedelta(hours=1))
    with pytest.raises(WorkflowError, match="must not be the original inspector"):
        ev.assign_reviewer(INSPECTOR.user_id, SUPERVISOR, T0)
    ev.assign_reviewer(SUPERVISOR_2.user_id, SUPERVISOR, T0)
    view = ev.reviewer_view(SUPERVISOR_2)
    assert view["inspector_id"] is None  # blind review
    event = ev.decide_appeal(
        Decision.REVISED,
        SUPERVISOR_2,
        T0 + timedelta(hours=2),
        "改判",
        results_from_mapping({"answer_accuracy": 20.0}),
    )
    assert event.to_state is State.FINAL
    assert [v.number for v in ev.versions] == [1, 2]
    assert ev.versions[0].results["answer_accuracy"].score == 10.0
    assert ev.final_version.score.total == 100.0
    assert ev.appeals[0].resulting_version == 2


def test_comments_are_pinned_inside_the_call() -> None:
    ev = new_eval()
    ev.start(INSPECTOR, T0)
    ev.add_comment(Comment(12.5, "未报工号", INSPECTOR.user_id, "greeting_agent_id"), INSPECTOR, T0)
    with pytest.raises(WorkflowError, match=r"outside the call \(0..180.0s\)"):
        ev.add_comment(Comment(200.0, "late", INSPECTOR.user_id), INSPECTOR, T0)
    with pytest.raises(WorkflowError, match="no item 'x'"):
        ev.add_comment(Comment(1.0, "x", INSPECTOR.user_id, "x"), INSPECTOR, T0)
    assert len(ev.draft_comments) == 1


# ---------------------------------------------------------------- illegal moves
def test_error_message_says_what_state_and_who() -> None:
    ev = new_eval()
    with pytest.raises(WorkflowError) as info:
        ev.publish(SUPERVISOR, T0)
    assert str(info.value) == (
        "cannot publish evaluation 1 in state 'assigned' as user 20 (supervisor): "
        "allowed only in state approved"
    )


def test_appeal_rules() -> None:
    ev = published()
    with pytest.raises(WorkflowError, match="only the evaluated agent"):
        ev.file_appeal("r", ["answer_accuracy"], OTHER_AGENT, T0)
    with pytest.raises(WorkflowError, match="window closed"):
        ev.file_appeal("r", ["answer_accuracy"], AGENT, ev.appeal_deadline)
    with pytest.raises(WorkflowError, match="reason is required"):
        ev.file_appeal(" ", ["answer_accuracy"], AGENT, T0)
    with pytest.raises(WorkflowError, match="disputed item"):
        ev.file_appeal("r", [], AGENT, T0)
    ev.file_appeal("r", ["answer_accuracy"], AGENT, T0)
    with pytest.raises(WorkflowError, match="original inspector"):
        ev.decide_appeal(Decision.UPHELD, Actor(INSPECTOR.user_id, ActorRole.SUPERVISOR), T0)
    ev.decide_appeal(Decision.UPHELD, SUPERVISOR_2, T0)
    assert ev.state is State.FINAL
    with pytest.raises(WorkflowError, match="allowed only in state published"):
        ev.file_appeal("again", ["answer_accuracy"], AGENT, T0)


def test_two_appeals_when_configured() -> None:
    ev = published(WorkflowPolicy(max_appeals=2))
    ev.file_appeal("r1", ["answer_accuracy"], AGENT, T0)
    assert ev.decide_appeal(Decision.UPHELD, SUPERVISOR_2, T0).to_state is State.PUBLISHED
    ev.file_appeal("r2", ["friendly_tone"], AGENT, T0 + timedelta(hours=1))
    assert ev.decide_appeal(Decision.UPHELD, SUPERVISOR_2, T0).to_state is State.FINAL


def test_self_approval_and_wrong_inspector_are_refused() -> None:
    ev = new_eval()
    with pytest.raises(WorkflowError, match="only the assigned inspector"):
        ev.start(OTHER_INSPECTOR, T0)
    ev.start(INSPECTOR, T0)
    with pytest.raises(WorkflowError, match="items not scored yet"):
        ev.submit(INSPECTOR, T0)
    ev.record_scores(full_results(), INSPECTOR, T0)
    ev.submit(INSPECTOR, T0)
    with pytest.raises(WorkflowError, match="cannot approve their own"):
        ev.approve(Actor(INSPECTOR.user_id, ActorRole.SUPERVISOR), T0)


# ---------------------------------------------------------------- stateful
actors = st.sampled_from([INSPECTOR, OTHER_INSPECTOR, SUPERVISOR, SUPERVISOR_2, AGENT, OTHER_AGENT])
hours = st.integers(min_value=0, max_value=72)


def mostly(right: Actor) -> st.SearchStrategy[Actor]:
    """The actor who may act, about half the time; anyone otherwise."""
    return st.one_of(st.just(right), actors)


class EvaluationMachine(RuleBasedStateMachine):
    """Random action sequences by random actors; illegal ones must raise and change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.ev = new_eval(WorkflowPolicy(max_appeals=1))
        self.now = T0
        self.history: list = []
        self.approved_seen = False
        self.finals: set[int] = set()

    def _try(self, fn, *args) -> None:
        before = (self.ev.state, len(self.ev.versions), len(self.ev.appeals))
        try:
            event = fn(*args)
        except WorkflowError:
            assert (self.ev.state, len(self.ev.versions), len(self.ev.appeals)) == before
            return
        self.history.append(event)
        if event.to_state is State.APPROVED:
            self.approved_seen = True
        if event.action == "appeal":
            assert event.actor_id == self.ev.agent_id and event.actor_role is ActorRole.AGENT
            assert self.now < self.ev.appeal_deadline
        if event.action == "decide_appeal":
            assert event.actor_id not in (self.ev.inspector_id, self.ev.agent_id)
        if event.to_state is State.PUBLISHED and event.action == "publish":
            assert self.approved_seen

    @initialize(max_appeals=st.integers(1, 2), blind=st.booleans())
    def choose_policy(self, max_appeals, blind) -> None:
        self.ev = new_eval(WorkflowPolicy(max_appeals=max_appeals, blind_review=blind))

    @rule(h=hours)
    def advance(self, h) -> None:
        self.now = self.now + timedelta(hours=h)

    @precondition(lambda self: self.ev.state is State.ASSIGNED)
    @rule(by=mostly(INSPECTOR))
    def start(self, by) -> None:
        self._try(self.ev.start, by, self.now)

    @precondition(lambda self: self.ev.state is State.DRAFT)
    @rule(by=mostly(INSPECTOR), accuracy=st.sampled_from([0.0, 10.0, 20.0]), abuse=st.booleans())
    def score(self, by, accuracy, abuse) -> None:
        self._try(
            self.ev.record_scores,
            full_results(answer_accuracy=accuracy, abuse_customer=abuse),
            by,
            self.now,
        )

    @precondition(lambda self: self.ev.state is State.DRAFT)
    @rule(by=mostly(INSPECTOR))
    def submit(self, by) -> None:
        self._try(self.ev.submit, by, self.now)

    @precondition(lambda self: self.ev.state is State.SUBMITTED)
    @rule(by=mostly(SUPERVISOR))
    def return_(self, by) -> None:
        self._try(self.ev.return_for_rework, "请补充依据", by, self.now)

    @precondition(lambda self: self.ev.state is State.RETURNED)
    @rule(by=mostly(INSPECTOR))
    def reopen(self, by) -> None:
        self._try(self.ev.reopen, by, self.now)

    @precondition(lambda self: self.ev.state is State.SUBMITTED)
    @rule(by=mostly(SUPERVISOR))
    def approve(self, by) -> None:
        self._try(self.ev.approve, by, self.now)

    @precondition(lambda self: self.ev.state is State.APPROVED)
    @rule(by=mostly(SUPERVISOR))
    def publish(self, by) -> None:
        self._try(self.ev.publish, by, self.now)

    @precondition(lambda self: self.ev.state is State.PUBLISHED)
    @rule(by=mostly(AGENT))
    def appeal(self, by) -> None:
        self._try(self.ev.file_appeal, "不同意", ["answer_accuracy"], by, self.now)

    @precondition(lambda self: self.ev.state is State.APPEALED)
    @rule(by=mostly(SUPERVISOR), reviewer=st.sampled_from([10, 11, 20, 21, 30]))
    def assign_reviewer(self, by, reviewer) -> None:
        self._try(self.ev.assign_reviewer, reviewer, by, self.now)

    @precondition(lambda self: self.ev.state is State.APPEALED)
    @rule(by=mostly(SUPERVISOR_2), revise=st.booleans())
    def decide(self, by, revise) -> None:
        if revise:
            self._try(
                self.ev.decide_appeal,
                Decision.REVISED,
                by,
                self.now,
                "改判",
                results_from_mapping({"answer_accuracy": 20.0}),
            )
        else:
            self._try(self.ev.decide_appeal, Decision.UPHELD, by, self.now)

    @precondition(lambda self: self.ev.state is State.PUBLISHED)
    @rule()
    def close(self) -> None:
        self._try(self.ev.close_window, self.now)

    @rule(
        action=st.sampled_from(
            ["start", "submit", "return_", "reopen", "approve", "publish", "appeal", "close"]
        ),
        by=actors,
    )
    def any_action_in_any_state(self, action, by) -> None:
        """Whatever the state, any action by anyone: legal or raising, never corrupting."""
        ev, now = self.ev, self.now
        calls = {
            "start": lambda: ev.start(by, now),
            "submit": lambda: ev.submit(by, now),
            "return_": lambda: ev.return_for_rework("x", by, now),
            "reopen": lambda: ev.reopen(by, now),
            "approve": lambda: ev.approve(by, now),
            "publish": lambda: ev.publish(by, now),
            "appeal": lambda: ev.file_appeal("x", ["answer_accuracy"], by, now),
            "close": lambda: ev.close_window(now),
        }
        self._try(calls[action])

    @invariant()
    def states_follow_the_graph(self) -> None:
        from scoring.workflow import TRANSITIONS

        for event in self.history:
            if event.from_state != event.to_state:
                assert event.to_state in TRANSITIONS[event.from_state]

    @invariant()
    def published_implies_approved(self) -> None:
        if self.ev.state in (State.APPROVED, State.PUBLISHED, State.APPEALED, State.FINAL):
            assert self.approved_seen and self.ev.versions
        if self.ev.state in (State.PUBLISHED, State.APPEALED, State.FINAL):
            assert self.ev.published_at is not None

    @invariant()
    def versions_are_append_only_and_numbered(self) -> None:
        assert [v.number for v in self.ev.versions] == list(range(1, len(self.ev.versions) + 1))
        assert len(self.ev.versions) <= 1 + len(self.ev.appeals)
        assert len(self.ev.appeals) <= self.ev.policy.max_appeals

    @invariant()
    def one_final_version(self) -> None:
        if self.ev.state is State.FINAL:
            self.finals.add(self.ev.final_version.number)
            assert len(self.finals) == 1
        else:
            assert self.ev.final_version is None

    @invariant()
    def blind_reviewer_never_sees_the_inspector(self) -> None:
        view = self.ev.reviewer_view(SUPERVISOR_2)
        assert (view["inspector_id"] is None) == self.ev.policy.blind_review

    @invariant()
    def reviewer_is_never_the_inspector(self) -> None:
        for appeal in self.ev.appeals:
            assert appeal.reviewer_id not in (self.ev.inspector_id,)
            assert appeal.decided_by not in (self.ev.inspector_id, self.ev.agent_id)


EvaluationMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=50, deadline=None
)
TestEvaluationMachine = EvaluationMachine.TestCase


def test_calendar_loads_from_yaml(tmp_path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_text(
        "holidays: [2026-10-01, 2026-10-02]\nmakeup_workdays: [2026-10-10]\n", encoding="utf-8"
    )
    cal = WorkingCalendar.load(path)
    assert not cal.is_working_day(date(2026, 10, 1)) and cal.is_working_day(date(2026, 10, 10))
    with pytest.raises(CalendarError, match="unknown calendar fields"):
        WorkingCalendar.from_mapping({"holiday": []})
