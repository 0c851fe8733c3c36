"""The scoring CLI groups through click's runner: JSON contracts and error exits."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from qa_platform.cli import QaGroup
from qa_platform.cli.scoring import COMMANDS
from tests.factories import FULL, make_calls, make_people


@pytest.fixture
def qa(platform):
    group = QaGroup("qa")
    for command in COMMANDS:
        group.add_command(command)
    people = make_people(platform)
    make_calls(platform, people, 60)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(group, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return json.loads(result.output) if "--json" in args and code == 0 else result

    invoke.people = people  # type: ignore[attr-defined]
    return invoke


def test_sample_run_and_show_contract(qa) -> None:
    out = qa(
        "sample",
        "run",
        "--period",
        "2026-03-01..2026-03-31",
        "--size",
        "5",
        "--seed",
        "7",
        "--json",
    )
    assert set(out) >= {"run_id", "frame_size", "frame_hash", "seed", "method", "call_ids"}
    assert out["seed"] == 7 and len(out["call_ids"]) == 5 and out["method"] == "simple_random"
    again = qa(
        "sample",
        "run",
        "--period",
        "2026-03-01..2026-03-31",
        "--size",
        "5",
        "--seed",
        "7",
        "--json",
    )
    assert again["call_ids"] == out["call_ids"]
    assert qa("sample", "show", str(out["run_id"]), "--json") == out


def test_plan_save_and_run_by_name(qa, tmp_path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("name: weekly\nmethod: agent_quota\nper_agent_quota: 2\n", encoding="utf-8")
    saved = qa("plan", "save", str(path), "--as", "sup1", "--json")
    assert saved["version"] == 1
    run = qa("sample", "run", "--plan", "weekly", "--seed", "1", "--json")
    assert run["method"] == "agent_quota" and len(run["call_ids"]) == 2 * len(qa.people.agents)


def test_bad_input_exits_2_with_message(qa) -> None:
    result = qa("sample", "run", "--period", "2026-03-01..2026-03-31", "--size", "100000", code=2)
    assert "asks for 100000 calls but only" in result.output
    result = qa("sample", "run", "--period", "March", "--size", "1", code=2)
    assert "must look like 2026-03-01..2026-03-31" in result.output
    assert "either --plan" in qa("sample", "run", code=2).output


def test_evaluation_and_appeal_through_the_cli(qa) -> None:
    run = qa(
        "sample",
        "run",
        "--period",
        "2026-03-01..2026-03-31",
        "--size",
        "1",
        "--seed",
        "3",
        "--json",
    )
    qa("assign", "run", str(run["run_id"]), "--as", "sup1", "--json")
    ev = qa("eval", "list", "--json")[0]
    eid, ins, agent = str(ev["evaluation_id"]), str(ev["inspector_id"]), str(ev["agent_id"])
    qa("eval", "start", eid, "--as", ins, "--json")
    qa(
        "eval",
        "save",
        eid,
        "--scores",
        json.dumps({**FULL, "friendly_tone": 4}),
        "--as",
        ins,
        "--json",
    )
    qa(
        "eval",
        "comment",
        eid,
        "--at",
        "3.5",
        "--text",
        "语气生硬",
        "--item",
        "friendly_tone",
        "--as",
        ins,
    )
    qa("eval", "submit", eid, "--as", ins, "--json")
    denied = qa("eval", "publish", eid, "--as", "sup1", code=2)
    assert "只允许在以下状态进行：已审核" in denied.output
    qa("eval", "approve", eid, "--as", "sup1", "--json")
    qa("eval", "publish", eid, "--as", "sup1", "--json")
    other_agent = next(a for a in qa.people.agents if str(a) != agent)
    assert (
        "只有被评价的坐席"
        in qa(
            "appeal",
            "file",
            eid,
            "--reason",
            "x",
            "--item",
            "friendly_tone",
            "--as",
            str(other_agent),
            code=2,
        ).output
    )
    qa(
        "appeal",
        "file",
        eid,
        "--reason",
        "客户先挑衅",
        "--item",
        "friendly_tone",
        "--as",
        agent,
        "--json",
    )
    out = qa("appeal", "decide", eid, "--decision", "upheld", "--as", "sup2", "--json")
    assert out["state"] == "final"
    shown = qa("eval", "show", eid, "--json")
    assert shown["appeals"][0]["decision"] == "upheld" and len(shown["versions"]) == 1
