"""The bounded YAML loader: no alias bombs, no deep nesting, no tags, no huge documents."""

from __future__ import annotations

import time

import pytest

from qa_platform import safe_yaml
from qa_platform.domain.errors import Invalid
from scoring.plan import SamplingPlan
from scoring.sampling import SamplingError

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join(f"*{chr(97 + i)}" for _ in range(9)) + "]\n"
    for i in range(6)
)


def test_alias_bomb_is_refused_quickly():
    started = time.perf_counter()
    with pytest.raises(safe_yaml.UnsafeYaml, match=r"anchors|aliases"):
        safe_yaml.load(BOMB, "plan")
    assert time.perf_counter() - started < 0.5
    assert isinstance(safe_yaml.UnsafeYaml("x"), Invalid)


@pytest.mark.parametrize(
    "text, match",
    [
        ("a: *b\n", "alias|not valid"),
        ("a: &x 1\nb: *x\n", "anchors"),
        ("[" * 30 + "]" * 30, "deeper"),
        ("a: !!binary aGVsbG8=\n", "tags"),
        ("a: !!python/object:os.system {}\n", "tags"),
        ("x: " + "y" * (safe_yaml.MAX_BYTES + 1), "larger"),
        ("a: [1, 2\n", "not valid"),
        ("a: " + "9" * 5000 + "\n", "cannot be read"),
    ],
)
def test_unsafe_or_broken_yaml_is_invalid(text, match):
    with pytest.raises(safe_yaml.UnsafeYaml, match=match):
        safe_yaml.load(text, "upload")


def test_plain_yaml_loads():
    assert safe_yaml.load("a: [1, 2.5, 三]\nb: {c: true}\nd: 2026-01-01\n")["a"] == [1, 2.5, "三"]
    assert safe_yaml.load("[" * 20 + "]" * 20) is not None


@pytest.mark.parametrize(
    "plan, field",
    [
        ({"name": ["x"], "size": 1}, "name"),
        ({"name": "p", "size": "10"}, "size"),
        ({"name": "p", "size": True}, "size"),
        ({"name": "p", "margin": float("nan")}, "margin"),
        ({"name": "p", "size": 1, "stream": ["random"]}, "stream"),
        ({"name": "p", "size": 1, "filters": ["x"]}, "filters"),
        ({"name": "p", "size": 1, "filters": {"agent_ids": "1"}}, "filters.agent_ids"),
        ({"name": "p", "size": 1, "filters": {"business_types": [{"a": 1}]}}, "business_types"),
        ({"name": "p", "size": 1, "filters": {"min_duration_s": float("inf")}}, "min_duration"),
        ({"name": "p", "size": 1, "filters": {"period_start": ["2026-01-01"]}}, "period_start"),
        ({"name": "p", "size": 1, "stddevs": {"a": "x"}}, "stddevs"),
        ({"name": "p", "stream": "targeted", "method": "targeted", "flag_types": "x"}, "flag"),
    ],
)
def test_plan_fields_are_type_checked(plan, field):
    with pytest.raises(SamplingError, match=field):
        SamplingPlan.from_mapping(plan)


def test_good_plan_still_loads():
    plan = SamplingPlan.from_mapping(
        safe_yaml.load("name: p\nsize: 3\nfilters: {period_start: 2026-01-01, agent_ids: [1, 2]}\n")
    )
    assert plan.size == 3 and plan.filters.agent_ids == (1, 2)
