"""Sampling: frame freezing, reproducibility, eligibility, quotas, allocation, unbiasedness."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chisquare

from scoring.plan import FrameCall, PlanFilters, SamplingPlan, build_frame, execute_plan
from scoring.sample_size import (
    SampleSizeError,
    margin_of_error_proportion,
    sample_size_mean,
    sample_size_proportion,
)
from scoring.sampling import (
    Method,
    SamplingError,
    Stream,
    agent_quota_sample,
    derive_seed,
    ensure_single_stream,
    frame_hash,
    freeze_frame,
    largest_remainder,
    neyman_allocation,
    proportional_allocation,
    simple_random_sample,
    stratified_sample,
    targeted_sample,
)

ids_strategy = st.sets(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=300)
seeds = st.integers(min_value=0, max_value=2**63 - 1)


# ---------------------------------------------------------------- sample size
def test_cochran_textbook_values() -> None:
    assert sample_size_proportion(0.05) == 385  # z=1.96, p=0.5, e=5%
    assert sample_size_proportion(0.05, population=1000) == 278  # with FPC
    assert sample_size_proportion(0.03, confidence=0.99) == 1844
    assert sample_size_mean(2.0, stddev=10.0) == 97


def test_sample_size_never_exceeds_population() -> None:
    assert sample_size_proportion(0.01, population=50) == 50
    assert sample_size_proportion(0.05, population=0) == 0


def test_margin_of_error_inverts_the_calculator() -> None:
    n = sample_size_proportion(0.05, population=5000)
    assert margin_of_error_proportion(n, population=5000) <= 0.05
    assert margin_of_error_proportion(n - 5, population=5000) > 0.05


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"margin": 0}, "margin"),
        ({"margin": 1.5}, "margin"),
        ({"margin": 0.05, "confidence": 1.0}, "confidence"),
        ({"margin": 0.05, "proportion": 2}, "proportion"),
        ({"margin": 0.05, "population": -1}, "population"),
    ],
)
def test_sample_size_bad_input_names_the_argument(kwargs, word) -> None:
    with pytest.raises(SampleSizeError, match=word):
        sample_size_proportion(**kwargs)


# ---------------------------------------------------------------- frame
@settings(deadline=None)
@given(ids_strategy, st.randoms(use_true_random=False))
def test_frame_is_independent_of_input_order(ids, rnd) -> None:
    shuffled = list(ids)
    rnd.shuffle(shuffled)
    assert freeze_frame(shuffled) == freeze_frame(sorted(ids))
    assert freeze_frame(shuffled).hash == frame_hash(sorted(ids))


def test_frame_hash_changes_with_content_and_rejects_duplicates() -> None:
    assert freeze_frame([1, 2, 3]).hash != freeze_frame([1, 2, 4]).hash
    with pytest.raises(SamplingError, match="appears twice"):
        freeze_frame([1, 2, 2])
    with pytest.raises(SamplingError, match="not a non-negative integer"):
        freeze_frame([1, "2"])  # type: ignore[list-item]


# ---------------------------------------------------------------- simple random
@settings(deadline=None)
@given(ids_strategy, seeds, st.data())
def test_same_frame_and_seed_give_same_sample(ids, seed, data) -> None:
    n = data.draw(st.integers(min_value=0, max_value=len(ids)))
    shuffled = list(ids)
    random.Random(seed).shuffle(shuffled)
    a = simple_random_sample(freeze_frame(ids), n, seed)
    b = simple_random_sample(freeze_frame(shuffled), n, seed)
    assert a == b
    assert len(set(a.call_ids)) == n  # without replacement
    assert set(a.call_ids) <= ids


@settings(deadline=None)
@given(ids_strategy, seeds)
def test_every_eligible_call_can_be_drawn(ids, seed) -> None:
    frame = freeze_frame(ids)
    everything = simple_random_sample(frame, frame.size, seed)
    assert sorted(everything.call_ids) == sorted(ids)


def test_sample_larger_than_frame_is_refused() -> None:
    with pytest.raises(SamplingError, match="exceeds the frame size 3"):
        simple_random_sample(freeze_frame([1, 2, 3]), 4, 1)
    with pytest.raises(SamplingError, match="seed"):
        simple_random_sample(freeze_frame([1, 2, 3]), 1, -1)


def test_simple_random_selection_is_uniform_chi_square() -> None:
    frame = freeze_frame(range(50))
    counts = Counter()
    for seed in range(4000):
        counts.update(simple_random_sample(frame, 5, seed).call_ids)
    observed = [counts[i] for i in range(50)]
    assert sum(observed) == 20_000
    assert chisquare(observed).pvalue > 0.01


def test_stratified_selection_within_stratum_is_uniform() -> None:
    strata = {i: "A" if i < 20 else "B" for i in range(60)}
    frame = freeze_frame(range(60), strata)
    counts = Counter()
    for seed in range(3000):
        counts.update(stratified_sample(frame, 12, seed).call_ids)
    for members in ([i for i in range(60) if strata[i] == s] for s in "AB"):
        assert chisquare([counts[i] for i in members]).pvalue > 0.01


# ---------------------------------------------------------------- stratified
sizes_strategy = st.dictionaries(
    st.sampled_from("abcdefgh"), st.integers(min_value=0, max_value=200), min_size=1
)


@settings(deadline=None)
@given(sizes_strategy, st.data())
def test_proportional_allocation_matches_formula(sizes, data) -> None:
    total = sum(sizes.values())
    n = data.draw(st.integers(min_value=0, max_value=total))
    alloc = proportional_allocation(sizes, n)
    assert sum(alloc.values()) == n
    for key, size in sizes.items():
        exact = n * size / total if total else 0
        assert abs(alloc[key] - exact) < 1  # largest remainder stays within one unit
        assert alloc[key] <= size


@settings(deadline=None)
@given(sizes_strategy, st.data())
def test_neyman_allocation_is_exact_capped_and_proportional_to_nh_sh(sizes, data) -> None:
    sds = {k: data.draw(st.floats(min_value=0.1, max_value=20)) for k in sizes}
    n = data.draw(st.integers(min_value=0, max_value=sum(sizes.values())))
    alloc = neyman_allocation(sizes, sds, n)
    assert sum(alloc.values()) == n
    assert all(alloc[k] <= sizes[k] for k in sizes)
    uncapped = [k for k in sizes if alloc[k] < sizes[k]]
    weight = sum(sizes[k] * sds[k] for k in uncapped)
    remaining = n - sum(alloc[k] for k in sizes if k not in uncapped)
    for k in uncapped:
        assert abs(alloc[k] - remaining * sizes[k] * sds[k] / weight) < 1 + 1e-9


def test_neyman_textbook_example() -> None:
    # N_h = 100, 200; S_h = 10, 5 → N_h S_h equal → 50/50 of n=60
    assert neyman_allocation({"x": 100, "y": 200}, {"x": 10.0, "y": 5.0}, 60) == {"x": 30, "y": 30}
    # a stratum whose share exceeds its size is taken whole
    assert neyman_allocation({"a": 10, "b": 100}, {"a": 100.0, "b": 1.0}, 20) == {"a": 10, "b": 10}


def test_largest_remainder_ties_break_by_key() -> None:
    assert largest_remainder({"b": 0.5, "a": 0.5}, 1) == {"a": 1, "b": 0}


strata_frames = st.dictionaries(
    st.integers(min_value=0, max_value=5000),
    st.sampled_from(["t1", "t2", "t3", "t4"]),
    min_size=1,
    max_size=200,
)


@settings(deadline=None)
@given(strata_frames, seeds, st.data())
def test_stratified_sample_meets_allocation_and_is_reproducible(strata, seed, data) -> None:
    frame = freeze_frame(strata.keys(), strata)
    n = data.draw(st.integers(min_value=0, max_value=frame.size))
    sample = stratified_sample(frame, n, seed)
    assert sample.size == n
    drawn = Counter(strata[c] for c in sample.call_ids)
    assert all(drawn[k] == v for k, v in sample.allocation.items())
    reversed_frame = freeze_frame(list(strata)[::-1], strata)
    assert stratified_sample(reversed_frame, n, seed) == sample


@settings(deadline=None)
@given(strata_frames, seeds, st.integers(min_value=1, max_value=10))
def test_agent_quota_is_met_for_every_agent(strata, seed, quota) -> None:
    frame = freeze_frame(strata.keys(), strata)
    sample = agent_quota_sample(frame, quota, seed)
    per_agent = Counter(strata[c] for c in sample.call_ids)
    sizes = Counter(strata.values())
    assert all(per_agent[a] == min(quota, sizes[a]) for a in sizes)


def test_stratum_seeds_are_independent_of_each_other() -> None:
    assert derive_seed(7, "team-1") != derive_seed(7, "team-2")
    assert derive_seed(7, "team-1") == derive_seed(7, "team-1")


# ---------------------------------------------------------------- plans and filters
def _calls(n: int) -> list[FrameCall]:
    start = datetime(2026, 3, 1, 9, 0)
    return [
        FrameCall(
            id=i,
            started_at=start + timedelta(hours=7 * i),
            agent_id=100 + i % 7,
            team_id=1 + i % 3,
            business_type=("claims", "policy", "sales")[i % 3],
            direction="in" if i % 4 else "out",
            duration_s=float(20 + (i * 37) % 600),
            analysed=i % 11 != 0,
        )
        for i in range(n)
    ]


filters_strategy = st.builds(
    PlanFilters,
    period_start=st.none() | st.dates(date(2026, 3, 1), date(2026, 3, 20)),
    period_end=st.none() | st.dates(date(2026, 3, 21), date(2026, 4, 30)),
    team_ids=st.lists(st.integers(1, 3), max_size=2).map(tuple),
    business_types=st.lists(st.sampled_from(["claims", "policy", "sales"]), max_size=2).map(tuple),
    directions=st.lists(st.sampled_from(["in", "out"]), max_size=1).map(tuple),
    min_duration_s=st.none() | st.floats(0, 100),
    max_duration_s=st.none() | st.floats(300, 700),
    analysed_only=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(filters_strategy, seeds)
def test_no_ineligible_call_is_drawn_and_all_eligible_are_drawable(filters, seed) -> None:
    calls = _calls(300)
    eligible = {c.id for c in calls if filters.accepts(c)}
    plan = SamplingPlan("p", filters=filters, size=len(eligible))
    sample = execute_plan(plan, calls, seed)
    assert set(sample.call_ids) == eligible
    small = SamplingPlan("p", filters=filters, size=min(5, len(eligible)))
    assert set(execute_plan(small, calls, seed).call_ids) <= eligible


def test_plan_with_margin_uses_calculator_with_fpc() -> None:
    calls = _calls(1000)
    plan = SamplingPlan("m", margin=0.1, filters=PlanFilters(analysed_only=False))
    sample = execute_plan(plan, calls, seed=3)
    assert sample.size == sample_size_proportion(0.1, population=1000)


def test_plan_round_trip_and_versioning() -> None:
    plan = SamplingPlan.from_mapping(
        {
            "name": "weekly",
            "method": "stratified_proportional",
            "stratify_by": "team",
            "size": 30,
            "filters": {"period_start": "2026-03-01", "period_end": "2026-03-07"},
        }
    )
    assert SamplingPlan.from_mapping(plan.to_mapping()) == plan
    v2 = plan.next_version(size=40)
    assert (v2.version, v2.size, plan.size) == (2, 40, 30)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x"}, "exactly one of size or margin"),
        (
            {"name": "x", "size": 5, "flag_types": ["abuse_agent"]},
            "random stream cannot select by flag",
        ),
        ({"name": "x", "stream": "targeted", "method": "targeted"}, "needs flag_types"),
        ({"name": "x", "method": "stratified_neyman", "size": 5}, "stratify_by"),
        ({"name": "x", "size": 5, "colour": "red"}, "unknown sampling plan fields"),
        ({"name": "x", "size": 5, "filters": {"period_start": "2026-13-01"}}, "YYYY-MM-DD"),
        ({"name": "x", "method": "agent_quota"}, "per_agent_quota"),
    ],
)
def test_bad_plans_are_rejected_with_a_clear_message(data, message) -> None:
    with pytest.raises(SamplingError, match=message):
        SamplingPlan.from_mapping(data)


def test_plan_asking_for_more_than_the_frame_names_both_numbers() -> None:
    plan = SamplingPlan("big", size=10_000, filters=PlanFilters(analysed_only=False))
    with pytest.raises(SamplingError, match="asks for 10000 calls but only 50 are eligible"):
        execute_plan(plan, _calls(50), seed=1)


def test_stratified_plan_builds_strata_from_call_attributes() -> None:
    plan = SamplingPlan(
        "s",
        method=Method.STRATIFIED_PROPORTIONAL,
        stratify_by="business_type",
        size=30,
        filters=PlanFilters(analysed_only=False),
    )
    frame = build_frame(plan, _calls(90))
    assert set(frame.strata.values()) == {"claims", "policy", "sales"}
    assert execute_plan(plan, _calls(90), 5).allocation == {"claims": 10, "policy": 10, "sales": 10}


# ---------------------------------------------------------------- targeted stream
def test_targeted_stream_takes_only_flagged_calls_of_the_requested_types() -> None:
    flags = {1: ["abuse_agent"], 2: ["long_silence"], 3: ["abuse_agent", "complaint_risk"], 4: []}
    sample = targeted_sample(flags, ["abuse_agent", "complaint_risk"], seed=1)
    assert sample.stream is Stream.TARGETED
    assert sample.call_ids == (1, 3)
    assert sample.strata == {1: "abuse_agent", 3: "abuse_agent"}


@settings(deadline=None)
@given(
    st.dictionaries(st.integers(0, 500), st.sets(st.sampled_from(["a", "b", "c"]), max_size=3)),
    seeds,
    st.integers(1, 5),
)
def test_targeted_limit_per_type(flags, seed, limit) -> None:
    sample = targeted_sample(flags, ["a", "b"], seed, per_type_limit=limit)
    assert all({"a", "b"} & set(flags[c]) for c in sample.call_ids)
    assert sample.size <= 2 * limit
    assert sample == targeted_sample(dict(reversed(list(flags.items()))), ["b", "a"], seed, limit)


def test_streams_never_mix() -> None:
    random_sample = simple_random_sample(freeze_frame([1, 2, 3]), 2, 1)
    targeted = targeted_sample({1: ["x"]}, ["x"], 1)
    assert ensure_single_stream([random_sample, random_sample]) is Stream.RANDOM
    with pytest.raises(SamplingError, match="different streams"):
        ensure_single_stream([random_sample, targeted])


def test_frame_hash_definition_is_pinned() -> None:
    import hashlib
    import struct

    expected = hashlib.sha256(struct.pack(">3q", 1, 2, 300)).hexdigest()
    assert freeze_frame([300, 1, 2]).hash == expected


@settings(deadline=None)
@given(strata_frames)
def test_database_fast_path_equals_freeze_frame(strata) -> None:
    from scoring.sampling import frame_from_sorted_unique

    ids = sorted(strata)
    assert frame_from_sorted_unique(ids, [strata[c] for c in ids]) == freeze_frame(ids, strata)
    with pytest.raises(SamplingError, match="not strictly ascending"):
        frame_from_sorted_unique([2, 1])
