"""Sampling (抽样): frame freezing, simple random and stratified sampling, targeted selection.

Two streams never mix:

* ``Stream.RANDOM`` — the random, unbiased stream (随机抽检). Only it feeds quality KPIs.
* ``Stream.TARGETED`` — flagged calls selected by flag type, special inspections (专项质检).

A run first freezes its frame: the eligible call ids, de-duplicated and sorted ascending, hashed
with SHA-256 over the ids written as 8-byte big-endian signed integers, one after another
(``sampling_frame_hash``). Every draw works
on that sorted frame, so the sample depends only on (frame, seed, method, parameters), never on
the order in which the database returned the rows.

Random numbers: Python's ``random.Random(seed)`` (Mersenne Twister) and its ``sample`` method,
whose algorithm has been stable across CPython 3.x releases. A stratum's generator is seeded
with ``derive_seed(seed, stratum_key)``: the first 8 bytes of SHA-256 over ``"{seed}:{key}"``,
so strata are independent of one another and of the order they are listed in.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from qa_platform.domain.errors import Invalid

MAX_SEED = 2**63 - 1


class SamplingError(Invalid):
    """A sampling plan, frame or request is invalid; the message names the problem."""


class Stream(StrEnum):
    """Which stream a sample belongs to; the two never mix."""

    RANDOM = "random"  # 随机抽检: unbiased, feeds KPIs
    TARGETED = "targeted"  # 专项质检: flagged calls by flag type


#: Risk reasons a targeted plan may select by besides flag types (专项质检 by risk): a machine
#: red-line suspect (the call's latest auto evaluation violated a judged red line), a low auto
#: score (its auto total below the plan's ``auto_score_below``) and a complaint case (a case
#: proposed, open or closed for the call; dismissed proposals do not count).
RISKS = ("auto_red_line", "auto_low_score", "complaint")


class Method(StrEnum):
    """How calls are drawn from the frame."""

    SIMPLE_RANDOM = "simple_random"  # without replacement
    STRATIFIED_PROPORTIONAL = "stratified_proportional"
    STRATIFIED_NEYMAN = "stratified_neyman"
    AGENT_QUOTA = "agent_quota"  # per-agent quota (每人抽检 k 通)
    TARGETED = "targeted"  # every flagged call, or a seeded subset per flag type


# --------------------------------------------------------------------------------------
# Frame


def _check_call_id(call_id: object) -> int:
    if isinstance(call_id, bool) or not isinstance(call_id, int) or call_id < 0:
        raise SamplingError(f"call id {call_id!r} is not a non-negative integer")
    return call_id


def _as_array(ids: Sequence[int]) -> np.ndarray:
    return np.fromiter(ids, dtype=np.int64, count=len(ids))


def frame_hash(sorted_ids: Sequence[int]) -> str:
    """``sampling_frame_hash``: SHA-256 (hex) of the ascending ids as 8-byte big-endian integers."""
    return hashlib.sha256(_as_array(sorted_ids).astype(">i8").tobytes()).hexdigest()


@dataclass(frozen=True)
class Frame:
    """A frozen sampling frame: sorted eligible call ids, their hash, optional strata.

    ``members`` maps stratum key → ascending call ids of that stratum (empty when the plan
    does not stratify).
    """

    call_ids: tuple[int, ...]
    hash: str
    members: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.call_ids)

    @property
    def strata(self) -> dict[int, str]:
        """Call id → stratum key."""
        return {c: key for key, calls in self.members.items() for c in calls}

    def stratum_members(self) -> dict[str, tuple[int, ...]]:
        """Stratum key → ascending call ids, keys sorted."""
        return dict(sorted(self.members.items()))


def _group(ids: Sequence[int], keys: Iterable[object]) -> dict[str, tuple[int, ...]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for call_id, key in zip(ids, keys, strict=True):
        groups["" if key is None else str(key)].append(call_id)
    return {k: tuple(v) for k, v in sorted(groups.items())}


def freeze_frame(call_ids: Iterable[int], strata: Mapping[int, object] | None = None) -> Frame:
    """Freeze the eligible calls: reject duplicates, sort, hash.

    ``strata`` maps call id → stratum key (agent, team, business type); when given it must
    cover every call in the frame.
    """
    ids = [_check_call_id(c) for c in call_ids]
    ids.sort()
    for prev, cur in itertools.pairwise(ids):
        if prev == cur:
            raise SamplingError(f"call id {cur} appears twice in the sampling frame")
    members: dict[str, tuple[int, ...]] = {}
    if strata is not None:
        missing = [c for c in ids if c not in strata]
        if missing:
            raise SamplingError(f"calls {missing[:5]} have no stratum (agent/team/business type)")
        members = _group(ids, (strata[c] for c in ids))
    return Frame(tuple(ids), frame_hash(ids), members)


def frame_from_sorted_unique(
    sorted_ids: Sequence[int], stratum_keys: Sequence[object] | None = None
) -> Frame:
    """Freeze a frame the database already returned sorted and unique (fast path, checked).

    ``stratum_keys`` (optional) runs parallel to ``sorted_ids``; ``None`` keys become ``""``.
    """
    arr = _as_array(sorted_ids)
    if arr.size > 1 and not bool((np.diff(arr) > 0).all()):
        raise SamplingError("frame ids are not strictly ascending; use freeze_frame()")
    if arr.size and arr[0] < 0:
        raise SamplingError(f"call id {int(arr[0])} is not a non-negative integer")
    ids = tuple(sorted_ids)
    digest = hashlib.sha256(arr.astype(">i8").tobytes()).hexdigest()
    if stratum_keys is None:
        return Frame(ids, digest)
    if len(stratum_keys) != len(ids):
        raise SamplingError("stratum keys and frame ids differ in length")
    return Frame(ids, digest, _group(ids, stratum_keys))


# --------------------------------------------------------------------------------------
# Seeds and allocation


def check_seed(seed: object) -> int:
    """A seed is an integer in [0, 2**63 − 1] (it is stored in a BIGINT column)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise SamplingError(f"seed={seed!r} must be an integer between 0 and 2**63-1")
    return seed


def derive_seed(seed: int, stratum_key: str) -> int:
    """The seed of one stratum's generator, from the run seed and the stratum key."""
    digest = hashlib.sha256(f"{seed}:{stratum_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def largest_remainder(quotas: Mapping[str, float], total: int) -> dict[str, int]:
    """Round real quotas to integers summing to ``total`` (Hamilton / largest remainder).

    Floors first; the remaining units go to the largest fractional parts, ties broken by
    stratum key so the result is deterministic.
    """
    floors = {k: math.floor(q + 1e-9) for k, q in quotas.items()}
    left = total - sum(floors.values())
    order = sorted(quotas, key=lambda k: (-(quotas[k] - floors[k]), k))
    for key in order[: max(left, 0)]:
        floors[key] += 1
    return dict(sorted(floors.items()))


def proportional_allocation(sizes: Mapping[str, int], n: int) -> dict[str, int]:
    """n_h = n · N_h / N, rounded by largest remainder so that Σ n_h = n exactly."""
    total = _check_allocation_input(sizes, n)
    if total == 0:
        return {k: 0 for k in sorted(sizes)}
    return largest_remainder({k: n * size / total for k, size in sizes.items()}, n)


def neyman_allocation(
    sizes: Mapping[str, int], stddevs: Mapping[str, float], n: int
) -> dict[str, int]:
    """n_h ∝ N_h · S_h (Neyman), capped at N_h, rounded by largest remainder; Σ n_h = n.

    A stratum whose share exceeds its size is taken whole and the rest is re-allocated among
    the others. When every N_h·S_h is zero the allocation falls back to proportional.
    """
    _check_allocation_input(sizes, n)
    for key in sizes:
        s = stddevs.get(key)
        if s is None:
            raise SamplingError(f"Neyman allocation needs a standard deviation for stratum {key!r}")
        if not s >= 0:
            raise SamplingError(f"standard deviation for stratum {key!r} must be >= 0, got {s!r}")
    fixed: dict[str, int] = {}
    open_keys = set(sizes)
    while True:
        remaining = n - sum(fixed.values())
        weights = {k: sizes[k] * float(stddevs[k]) for k in open_keys}
        if sum(weights.values()) == 0:
            rest = proportional_allocation({k: sizes[k] for k in open_keys}, remaining)
            return dict(sorted({**fixed, **rest}.items()))
        total_w = sum(weights.values())
        quotas = {k: remaining * w / total_w for k, w in weights.items()}
        over = {k for k, q in quotas.items() if q > sizes[k]}
        if not over:
            return dict(sorted({**fixed, **largest_remainder(quotas, remaining)}.items()))
        for key in over:
            fixed[key] = sizes[key]
        open_keys -= over


def _check_allocation_input(sizes: Mapping[str, int], n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise SamplingError(f"sample size {n!r} must be a non-negative integer")
    for key, size in sizes.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise SamplingError(f"stratum {key!r} size {size!r} must be a non-negative integer")
    total = sum(sizes.values())
    if n > total:
        raise SamplingError(f"sample size {n} exceeds the frame size {total}")
    return total


# --------------------------------------------------------------------------------------
# Draws


@dataclass(frozen=True)
class Sample:
    """The outcome of one draw: ids in draw order, plus what is needed to reproduce it."""

    stream: Stream
    method: Method
    seed: int
    frame_hash: str
    frame_size: int
    call_ids: tuple[int, ...]
    allocation: Mapping[str, int] = field(default_factory=dict)  # stratum → n_h
    strata: Mapping[int, str] = field(default_factory=dict)  # sampled call → stratum

    @property
    def size(self) -> int:
        return len(self.call_ids)


def simple_random_sample(frame: Frame, n: int, seed: int) -> Sample:
    """Simple random sampling without replacement (简单随机抽样) of ``n`` calls."""
    check_seed(seed)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise SamplingError(f"sample size {n!r} must be a non-negative integer")
    if n > frame.size:
        raise SamplingError(f"sample size {n} exceeds the frame size {frame.size}")
    drawn = random.Random(seed).sample(frame.call_ids, n)
    return Sample(Stream.RANDOM, Method.SIMPLE_RANDOM, seed, frame.hash, frame.size, tuple(drawn))


def _draw_strata(frame: Frame, allocation: Mapping[str, int], seed: int, method: Method) -> Sample:
    members = frame.stratum_members()
    drawn: list[int] = []
    strata: dict[int, str] = {}
    for key, calls in members.items():
        picked = random.Random(derive_seed(seed, key)).sample(calls, allocation.get(key, 0))
        drawn.extend(picked)
        strata.update(dict.fromkeys(picked, key))
    alloc = {k: allocation.get(k, 0) for k in members}
    return Sample(Stream.RANDOM, method, seed, frame.hash, frame.size, tuple(drawn), alloc, strata)


def _stratum_sizes(frame: Frame) -> dict[str, int]:
    if frame.size and not frame.members:
        raise SamplingError("stratified sampling needs a stratum for every call in the frame")
    return {k: len(v) for k, v in frame.stratum_members().items()}


def stratified_sample(
    frame: Frame,
    n: int,
    seed: int,
    allocation: str = "proportional",
    stddevs: Mapping[str, float] | None = None,
) -> Sample:
    """Stratified random sample (分层抽样), proportional or Neyman allocation by stratum."""
    check_seed(seed)
    sizes = _stratum_sizes(frame)
    if allocation == "proportional":
        alloc, method = proportional_allocation(sizes, n), Method.STRATIFIED_PROPORTIONAL
    elif allocation == "neyman":
        if stddevs is None:
            raise SamplingError("Neyman allocation needs stddevs per stratum")
        alloc, method = neyman_allocation(sizes, stddevs, n), Method.STRATIFIED_NEYMAN
    else:
        raise SamplingError(f"allocation={allocation!r} must be 'proportional' or 'neyman'")
    return _draw_strata(frame, alloc, seed, method)


def agent_quota_sample(frame: Frame, quota: int, seed: int) -> Sample:
    """Per-agent quota (每位坐席抽 k 通): min(quota, N_agent) calls from each agent's stratum."""
    check_seed(seed)
    if isinstance(quota, bool) or not isinstance(quota, int) or quota <= 0:
        raise SamplingError(f"per-agent quota {quota!r} must be a positive integer")
    sizes = _stratum_sizes(frame)
    alloc = {k: min(quota, size) for k, size in sizes.items()}
    return _draw_strata(frame, alloc, seed, Method.AGENT_QUOTA)


def targeted_sample(
    flags_by_call: Mapping[int, Iterable[str]],
    flag_types: Iterable[str],
    seed: int,
    per_type_limit: int | None = None,
    ranked: Mapping[str, Sequence[int]] | None = None,
) -> Sample:
    """Targeted stream (专项质检): calls carrying any of ``flag_types``.

    A "type" is a flag type or a risk reason (:data:`RISKS`: a machine red-line suspect, a low
    auto score, a complaint case). Without a limit every matching call is taken. With
    ``per_type_limit`` each type contributes at most that many calls: for a type in ``ranked``
    the first ones of its ranking (the lowest auto scores first), for any other drawn at random
    (seeded per type); a call that carries two requested types counts once. The frame is the set
    of matching calls.
    """
    check_seed(seed)
    wanted = sorted(set(flag_types))
    if not wanted:
        raise SamplingError("the targeted stream needs at least one flag type")
    if per_type_limit is not None and (isinstance(per_type_limit, bool) or per_type_limit <= 0):
        raise SamplingError(f"per_type_limit={per_type_limit!r} must be a positive integer")
    by_type = {t: sorted(c for c, f in flags_by_call.items() if t in set(f)) for t in wanted}
    frame = freeze_frame({c for calls in by_type.values() for c in calls})
    chosen: dict[int, str] = {}
    order = ranked or {}
    for flag_type, calls in by_type.items():
        if flag_type in order:
            members = set(calls)
            calls = [c for c in order[flag_type] if c in members][:per_type_limit]
        elif per_type_limit is not None and len(calls) > per_type_limit:
            calls = random.Random(derive_seed(seed, flag_type)).sample(calls, per_type_limit)
        for call_id in calls:
            chosen.setdefault(call_id, flag_type)
    ids = tuple(sorted(chosen))
    alloc = {t: sum(1 for v in chosen.values() if v == t) for t in wanted}
    return Sample(
        Stream.TARGETED, Method.TARGETED, seed, frame.hash, frame.size, ids, alloc, chosen
    )


def ensure_single_stream(samples: Iterable[Sample]) -> Stream:
    """Refuse to combine samples of different streams (KPIs come from the random stream only)."""
    streams = {s.stream for s in samples}
    if len(streams) != 1:
        raise SamplingError(f"samples from different streams cannot be combined: {sorted(streams)}")
    return streams.pop()
