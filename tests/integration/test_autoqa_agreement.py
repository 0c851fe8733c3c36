"""Machine–human agreement on the random stream over stored rows: ``qa autoqa agreement``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from qa_platform.cli import main
from qa_platform.domain.transcript import Role, Severity
from qa_platform.services.context import Platform
from scoring.plan import PlanFilters, SamplingPlan
from scoring.services import autoqa
from scoring.services.autoqa_agreement import machine_human_agreement
from tests.factories import (
    FULL,
    add_call,
    analyse_call,
    flag,
    make_people,
    publish_scored,
    sample_and_assign,
)

DEC = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
NO_CLOSING = flag("missing_closing", Severity.WARNING, Role.AGENT, 14.0, 19.5, "没有结束语")


def qa(*args: str, code: int = 0) -> dict:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 and "--json" in args else {"out": result.output}


@pytest.fixture
def world(platform: Platform) -> Platform:
    """Four December calls: the machine fails closing on the first two (flag), the people fail
    it on the first and the fourth; a fifth call in November the people score but is outside."""
    people = make_people(platform, inspectors=3, agents=2)
    machine_flags = [[NO_CLOSING], [NO_CLOSING], [], [], []]
    human_closing = [0.0, 4.0, 4.0, 0.0, 0.0]
    started = [DEC + timedelta(days=i) for i in range(4)] + [DEC - timedelta(days=20)]
    ids = []
    for i, at in enumerate(started):
        agent = people.agents[i % 2]
        cid = add_call(platform, agent, people.teams[agent], status="queued", started_at=at)
        analyse_call(platform, cid, machine_flags[i])
        autoqa.evaluate_call(platform, cid)
        ids.append(cid)
    plan = SamplingPlan("all", size=5, filters=PlanFilters())
    inspector = people.inspectors[2]  # team C: never the agents' team
    for ev in sample_and_assign(platform, plan, inspector_ids=[inspector]):
        scores = dict(FULL, closing_phrase=human_closing[ids.index(ev["call_id"])])
        publish_scored(platform, ev["evaluation_id"], inspector, people.supervisor, scores, at=DEC)
    return platform


def test_agreement_per_item_and_overall_from_the_final_human_result(world: Platform) -> None:
    report = machine_human_agreement(world, "2026-12", threshold=0.6).to_dict()
    assert report["evaluations"] == 4  # the November call is outside the period
    items = {i["code"]: i for i in report["items"]}
    closing = items["closing_phrase"]
    assert closing["confusion"] == {
        "both_pass": 1,
        "machine_pass_human_fail": 1,
        "machine_fail_human_pass": 1,
        "both_fail": 1,
    }
    assert closing["percent_agreement"] == 0.5 and closing["kappa"] == 0.0 and closing["weak"]
    greeting = items["greeting_agent_id"]  # both sides: full marks everywhere
    assert greeting["percent_agreement"] == 1.0 and greeting["kappa"] is None
    assert "answer_accuracy" not in items  # people only
    assert report["weak_items"] == ["closing_phrase"]
    assert report["overall"]["n"] == sum(i["n"] for i in report["items"])


def test_the_cli_prints_json_and_the_threshold_setting_marks_weak_items(world: Platform) -> None:
    out = qa("autoqa", "agreement", "--period", "2026-12", "--threshold", "-0.5", "--json")
    assert out["threshold"] == -0.5 and out["weak_items"] == []
    text = qa("autoqa", "agreement", "--period", "2026-12")["out"]
    assert "closing_phrase" in text and "偏低" in text  # default threshold 0.6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "2026-13"),
        (["--period", "december"], "YYYY-MM"),
        (["--period", "2026-12", "--threshold", "1.5"], "1.5"),
        (["--period", "2026-12", "--threshold", "nan"], "nan"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it(
    platform: Platform, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["autoqa", "agreement", *args])
    assert result.exit_code == 2 and message in result.output


def test_machine_figures_cover_every_analysed_call_labelled_machine(platform: Platform) -> None:
    people = make_people(platform, inspectors=1, agents=2)
    abuse = flag("abuse_agent", Severity.CRITICAL, Role.AGENT, 5.0, 6.0, "骂人")
    plan = [(people.agents[0], [], True), (people.agents[1], [abuse], True)]
    plan += [(people.agents[1], [], False)]  # analysed, not judged yet
    for i, (agent, flags, judged) in enumerate(plan):
        at = DEC + timedelta(days=i)
        cid = add_call(platform, agent, people.teams[agent], status="queued", started_at=at)
        analyse_call(platform, cid, flags)
        if judged:
            autoqa.evaluate_call(platform, cid)
    data = qa("autoqa", "summary", "--period", "2026-12", "--json")
    assert data["label"] == "机器结果" and data["source"] == "machine"
    centre = data["centre"]
    assert (centre["analysed"], centre["judged"], centre["coverage"]) == (3, 2, 0.6667)
    assert centre["mean_total"] == 50.0 and centre["pass_rate"] == 0.5
    assert centre["red_line_suspects"] == 1
    teams = {t["key"]: t for t in data["teams"]}
    assert teams["B"]["red_line_suspects"] == 1 and teams["A"]["red_line_suspects"] == 0
    assert [a["analysed"] for a in data["agents"]] == [1, 2]
    assert "机器结果" in qa("autoqa", "summary", "--period", "2026-12")["out"]
    assert qa("autoqa", "summary", "--period", "2026-11", "--json")["centre"]["analysed"] == 0
