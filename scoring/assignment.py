"""Assignment (分配) of sampled calls to inspectors.

Balanced: each call goes to the eligible inspector with the least load so far (existing open
work counts), ties broken by inspector id, calls taken in ascending id order; then chains of
moves from more to less loaded eligible inspectors narrow the spread (team exclusion can
otherwise leave it uneven). The same input always gives the same assignment. Optionally an inspector never receives calls of agents in
their own team. Inspectors marked away get nothing; ``reassign_away`` moves an away
inspector's open calls to the others under the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from qa_platform.domain.errors import Invalid


class AssignmentError(Invalid):
    """No inspector can take a call, or the input is inconsistent; names the call."""


@dataclass(frozen=True)
class Inspector:
    """An inspector who can receive work."""

    id: int
    team_id: int | None = None
    available: bool = True  # False: on leave/away (休假)
    capacity: int | None = None  # max open calls; None = unlimited


@dataclass(frozen=True)
class CallToAssign:
    """A sampled call and whose it is."""

    call_id: int
    agent_id: int | None
    agent_team_id: int | None


def assign_calls(
    calls: Iterable[CallToAssign],
    inspectors: Iterable[Inspector],
    exclude_own_team: bool = True,
    current_load: Mapping[int, int] | None = None,
) -> dict[int, int]:
    """Map call id → inspector id, least loaded first; raise if a call has no taker."""
    pool = [i for i in sorted(inspectors, key=lambda i: i.id) if i.available]
    if not pool:
        raise AssignmentError("no available inspector to assign calls to")
    load = {i.id: int((current_load or {}).get(i.id, 0)) for i in pool}
    result: dict[int, int] = {}
    for call in sorted(calls, key=lambda c: c.call_id):
        if call.call_id in result:
            raise AssignmentError(f"call {call.call_id} is listed twice")
        chosen = _pick(call, pool, load, exclude_own_team)
        result[call.call_id] = chosen
        load[chosen] += 1
    _rebalance(sorted(calls, key=lambda c: c.call_id), pool, load, result, exclude_own_team)
    return result


def _rebalance(
    calls: list[CallToAssign],
    pool: list[Inspector],
    load: dict[int, int],
    result: dict[int, int],
    exclude: bool,
) -> None:
    """Narrow the spread left by the greedy pass (team exclusion can make it uneven).

    Looks for a chain of moves (an augmenting path): a call leaves the most loaded inspector,
    each receiver passes one of its calls on, and the last receiver has at least two fewer calls
    than the first. Every chain lowers the sum of squared loads, so the loop ends; the search
    order is fixed, so the result stays deterministic.
    """
    while (path := _improving_path(calls, pool, load, result, exclude)) is not None:
        for call_id, target in path:
            load[result[call_id]] -= 1
            result[call_id] = target
            load[target] += 1


def _improving_path(
    calls: list[CallToAssign],
    pool: list[Inspector],
    load: Mapping[int, int],
    result: Mapping[int, int],
    exclude: bool,
) -> list[tuple[int, int]] | None:
    held: dict[int, list[CallToAssign]] = {i.id: [] for i in pool}
    for call in calls:
        held[result[call.call_id]].append(call)
    for source in sorted(held, key=lambda i: (-load[i], i)):
        path = _search_from(source, held, pool, load, exclude)
        if path is not None:
            return path
    return None


def _search_from(
    source: int,
    held: Mapping[int, list[CallToAssign]],
    pool: list[Inspector],
    load: Mapping[int, int],
    exclude: bool,
) -> list[tuple[int, int]] | None:
    parent: dict[int, tuple[int, int] | None] = {source: None}  # inspector -> (call, from)
    queue = [source]
    for here in queue:
        for call in held[here]:
            for inspector in pool:
                if inspector.id in parent or not _allowed(call, inspector, exclude):
                    continue
                parent[inspector.id] = (call.call_id, here)
                if load[inspector.id] + 1 < load[source] and _has_room(inspector, load):
                    return _unwind(inspector.id, parent)
                queue.append(inspector.id)
    return None


def _unwind(end: int, parent: Mapping[int, tuple[int, int] | None]) -> list[tuple[int, int]]:
    path, node = [], end
    while (step := parent[node]) is not None:
        call_id, previous = step
        path.append((call_id, node))
        node = previous
    return path


def _allowed(call: CallToAssign, inspector: Inspector, exclude: bool) -> bool:
    if inspector.id == call.agent_id:
        return False
    return not (
        exclude and inspector.team_id is not None and inspector.team_id == call.agent_team_id
    )


def _has_room(inspector: Inspector, load: Mapping[int, int]) -> bool:
    return inspector.capacity is None or load[inspector.id] < inspector.capacity


def _eligible(
    call: CallToAssign, inspector: Inspector, load: Mapping[int, int], exclude: bool
) -> bool:
    if inspector.id == call.agent_id:
        return False
    if exclude and inspector.team_id is not None and inspector.team_id == call.agent_team_id:
        return False
    return inspector.capacity is None or load[inspector.id] < inspector.capacity


def _pick(call: CallToAssign, pool: list[Inspector], load: Mapping[int, int], exclude: bool) -> int:
    candidates = [i.id for i in pool if _eligible(call, i, load, exclude)]
    if not candidates:
        raise AssignmentError(
            f"no inspector can take call {call.call_id} (agent {call.agent_id}, team "
            f"{call.agent_team_id}): all are away, at capacity or in the agent's team"
        )
    return min(candidates, key=lambda i: (load[i], i))


def reassign_away(
    assignments: Mapping[int, int],
    calls: Mapping[int, CallToAssign],
    inspectors: Iterable[Inspector],
    exclude_own_team: bool = True,
) -> dict[int, int]:
    """Move open calls of unavailable inspectors to available ones; returns call → new inspector.

    ``assignments`` is the open work (call id → inspector id); ``calls`` describes those calls.
    Load already held by the available inspectors counts toward balance.
    """
    everyone = list(inspectors)
    away = {i.id for i in everyone if not i.available}
    known = {i.id for i in everyone}
    unknown = {i for i in assignments.values() if i not in known}
    if unknown:
        raise AssignmentError(f"assignments name unknown inspectors {sorted(unknown)}")
    load: dict[int, int] = {}
    for inspector_id in assignments.values():
        load[inspector_id] = load.get(inspector_id, 0) + 1
    moving = [calls[c] for c, i in sorted(assignments.items()) if i in away]
    if not moving:
        return {}
    return assign_calls(moving, everyone, exclude_own_team, load)
