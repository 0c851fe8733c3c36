"""Assignment of sampled calls to inspectors."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.assignment import AssignmentError, CallToAssign, Inspector, assign_calls, reassign_away

INSPECTORS = [Inspector(1, team_id=10), Inspector(2, team_id=20), Inspector(3, team_id=30)]

calls_strategy = st.lists(
    st.builds(
        CallToAssign,
        st.integers(0, 10_000),
        st.integers(100, 120),
        st.sampled_from([10, 20, 30, 40]),
    ),
    unique_by=lambda c: c.call_id,
    max_size=200,
)


@settings(deadline=None)
@given(calls_strategy)
def test_balanced_and_never_own_team(calls) -> None:
    result = assign_calls(calls, INSPECTORS, exclude_own_team=True)
    assert set(result) == {c.call_id for c in calls}
    team = {i.id: i.team_id for i in INSPECTORS}
    assert all(team[result[c.call_id]] != c.agent_team_id for c in calls)
    if all(c.agent_team_id == 40 for c in calls):  # nobody excluded → perfectly balanced
        load = Counter(result.values())
        assert max(load.values(), default=0) - min(load.get(i.id, 0) for i in INSPECTORS) <= 1


@settings(deadline=None)
@given(calls_strategy)
def test_deterministic_regardless_of_input_order(calls) -> None:
    assert assign_calls(calls, INSPECTORS) == assign_calls(
        list(reversed(calls)), list(reversed(INSPECTORS))
    )


def test_least_loaded_first_with_tie_break_by_id() -> None:
    calls = [CallToAssign(i, 100, 40) for i in range(5)]
    result = assign_calls(calls, INSPECTORS, current_load={1: 2})
    assert result == {0: 2, 1: 3, 2: 2, 3: 3, 4: 1}


def test_own_team_exclusion_can_be_turned_off() -> None:
    calls = [CallToAssign(1, 100, 10)]
    only = [Inspector(1, team_id=10)]
    with pytest.raises(AssignmentError, match="no inspector can take call 1"):
        assign_calls(calls, only)
    assert assign_calls(calls, only, exclude_own_team=False) == {1: 1}


def test_away_inspector_gets_nothing_and_loses_open_work() -> None:
    calls = {i: CallToAssign(i, 100, 40) for i in range(6)}
    first = assign_calls(calls.values(), INSPECTORS)
    away = [Inspector(1, 10, available=False), INSPECTORS[1], INSPECTORS[2]]
    moved = reassign_away(first, calls, away)
    assert set(moved) == {c for c, i in first.items() if i == 1}
    assert set(moved.values()) <= {2, 3}
    assert 1 not in assign_calls(calls.values(), away).values()


def test_capacity_is_respected() -> None:
    calls = [CallToAssign(i, 100, 40) for i in range(3)]
    with pytest.raises(AssignmentError, match="capacity"):
        assign_calls(calls, [Inspector(1, capacity=2)])
