"""Auto-QA end to end on the real database: the pipeline stage, idempotent upsert keyed by call,
scorecard and rule-set version, ``qa call show`` and ``qa autoqa rerun``; human evaluations stay."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from qa_platform.cli import main
from qa_platform.domain.pipeline import STAGE_NAMES
from qa_platform.domain.transcript import Role, Segment, Severity, Transcript
from qa_platform.flags import default_rule_set
from qa_platform.queries.calls import show_call
from qa_platform.services import flags as flag_service
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services.context import Platform
from scoring import services as svc
from scoring.scorecard import default_scorecard, scorecard_from_mapping, scorecard_to_mapping
from scoring.services import autoqa
from storage.models import Call
from storage.models_autoqa import AutoEvaluationRow
from storage.models_scoring import EvaluationRow, EvaluationVersionRow, ItemScoreRow
from tests.factories import (
    FULL,
    T0,
    add_call,
    analyse_call,
    flag,
    make_people,
    publish_scored,
    sample_and_assign,
)
from workers.tasks import STAGE_WORK


def qa(*args: str, code: int = 0) -> dict:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 and "--json" in args else {}


def rows(platform: Platform) -> list[AutoEvaluationRow]:
    with platform.uow() as uow:
        found = list(uow.session.scalars(select(AutoEvaluationRow).order_by(AutoEvaluationRow.id)))
        uow.session.expunge_all()
        return found


@pytest.fixture
def call_id(platform: Platform) -> int:
    people = make_people(platform, inspectors=1, agents=1)
    cid = add_call(platform, people.agents[0], people.teams[people.agents[0]], status="queued")
    missing_id = flag("missing_agent_id", Severity.WARNING, Role.AGENT, 0.0, 3.0, "未报工号")
    analyse_call(platform, cid, [missing_id])
    return cid


def test_the_stage_runs_after_flags_and_before_the_call_is_analysed() -> None:
    assert STAGE_NAMES.index("autoqa") == STAGE_NAMES.index("flags") + 1
    assert STAGE_NAMES[-1] == "finish" and "autoqa" in STAGE_WORK


def test_the_stage_stores_the_judgement_and_call_show_prints_it(
    platform: Platform, call_id: int
) -> None:
    STAGE_WORK["autoqa"].compute(platform, call_id)
    shown = show_call(platform, call_id)["auto_evaluation"]
    assert set(shown) == {"scorecard", "version", "total", "passed", "items"}
    assert (shown["scorecard"], shown["version"]) == ("insurance_phone_default", 3)
    items = {i["code"]: i for i in shown["items"]}
    greeting = items["greeting_agent_id"]
    assert greeting["judged"] and greeting["score"] == 3.0 and greeting["points"] == 6.0
    assert greeting["evidence"] == [
        {"flag": "missing_agent_id", "start": 0.0, "end": 3.0, "text": "未报工号"}
    ]
    assert items["closing_phrase"]["score"] == 4.0 and items["closing_phrase"]["evidence"] == []
    assert items["speech_rate"]["judged"] is False  # 11 s of agent speech: not measurable
    assert items["answer_accuracy"]["judged"] is False and items["answer_accuracy"]["score"] is None
    assert not items["leak_customer_info"]["violated"]  # only the customer spoke digits
    # judged scored items: greeting 3/6, identity 10, interrupting 4, closing 4 (fillers unmeasured)
    assert shown["total"] == pytest.approx(100 * 21 / 24, abs=1e-3) and shown["passed"]


def test_running_twice_keeps_one_row_per_call_scorecard_and_rule_set(
    platform: Platform, call_id: int
) -> None:
    autoqa.evaluate_call(platform, call_id)
    first = rows(platform)
    autoqa.evaluate_call(platform, call_id)
    [again] = rows(platform)
    assert len(first) == 1 and again.id == first[0].id
    assert again.rule_set_version == default_rule_set().version
    assert again.updated_at >= first[0].updated_at


def test_an_agent_reading_out_personal_data_is_a_red_line_suspect(platform: Platform) -> None:
    people = make_people(platform, inspectors=1, agents=1)
    cid = add_call(platform, people.agents[0], people.teams[people.agents[0]])
    lines = [
        (0.0, 4.0, Role.AGENT, "您好，安康人寿，工号三七五二，请问有什么可以帮您？"),
        (4.5, 9.0, Role.AGENT, "您登记的手机是[手机号]，身份证是[身份证号]。"),
        (9.5, 12.0, Role.AGENT, "感谢您的来电，再见。"),
    ]
    segments = [Segment("S0", r, a, b, t) for a, b, r, t in lines]
    with platform.uow() as uow:
        pipeline_service.save_transcript(
            uow.session, cid, transcript=Transcript(segments, "zh", "demo"),
            model="demo", model_version="demo-1", version="demo",
        )  # fmt: skip
        uow.commit()
    result = autoqa.evaluate_call(platform, cid)
    leak = result.item("leak_customer_info")
    assert leak is not None and leak.violated and result.total == 0.0
    assert [e.start for e in leak.evidence] == [4.5, 4.5]


def test_people_s_evaluations_are_never_touched(platform: Platform) -> None:
    people = make_people(platform, inspectors=2, agents=1)  # the 2nd inspector: another team
    cid = add_call(platform, people.agents[0], people.teams[people.agents[0]], status="queued")
    analyse_call(platform, cid, [flag("abuse_agent", Severity.CRITICAL, Role.AGENT)])
    [ev] = sample_and_assign(platform, inspector_ids=[people.inspectors[1]])
    publish_scored(platform, ev["evaluation_id"], people.inspectors[1], people.supervisor, FULL)

    def human() -> list[tuple]:
        with platform.uow() as uow:
            s = uow.session
            return [
                *[(e.id, e.state, e.total, e.passed, e.row_version) for e in s.scalars(
                    select(EvaluationRow))],
                *[(v.id, v.total, v.passed) for v in s.scalars(select(EvaluationVersionRow))],
                *[(i.id, i.item_code, i.score, i.violated) for i in s.scalars(
                    select(ItemScoreRow))],
            ]  # fmt: skip

    before = human()
    result = autoqa.evaluate_call(platform, cid)
    assert result.red_line_violations == ("abuse_customer",) and result.total == 0.0
    assert human() == before  # the person gave full marks; the machine's view sits beside it
    assert show_call(platform, cid)["evaluations"][0]["total"] == 100.0


def test_rerun_judges_only_affected_calls_and_a_new_rule_set_adds_rows(
    platform: Platform, call_id: int
) -> None:
    with platform.uow() as uow:
        agent = uow.session.get(Call, call_id).agent_id
    later = add_call(platform, agent, None, status="queued", started_at=T0 + timedelta(days=3))
    analyse_call(platform, later, [])
    out = qa("autoqa", "rerun", "--json")
    assert out["calls"] == 2 and out["scorecard_version"] == 3
    assert qa("autoqa", "rerun", "--json")["calls"] == 0  # nothing changed: nothing to do
    since = (T0 + timedelta(days=2)).strftime("%Y-%m-%d")
    assert qa("autoqa", "rerun", "--all", "--since", since, "--json")["calls"] == 1
    edited = default_rule_set().to_dict() | {"version": "centre-2"}
    flag_service.import_rule_set_text(
        platform, yaml.safe_dump(edited, allow_unicode=True), "edited", created_by="t"
    )
    assert qa("autoqa", "rerun", "--json")["calls"] == 2
    versions = sorted((r.call_id, r.rule_set_version) for r in rows(platform))
    assert versions == sorted(
        [(call_id, default_rule_set().version), (later, default_rule_set().version),
         (call_id, "centre-2"), (later, "centre-2")]
    )  # fmt: skip
    shown = qa("call", "show", str(call_id), "--json")["auto_evaluation"]
    assert shown["scorecard"] == "insurance_phone_default"


def test_rerun_refuses_an_unknown_scorecard_without_writing(
    platform: Platform, call_id: int
) -> None:
    qa("autoqa", "rerun", "--scorecard", "nope", "--json", code=2)
    with platform.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AutoEvaluationRow)) == 0


def test_a_new_scorecard_version_is_rerun_with_the_stored_metrics(
    platform: Platform, call_id: int
) -> None:
    autoqa.evaluate_call(platform, call_id)
    data = scorecard_to_mapping(default_scorecard()) | {"version": 4}
    closing = next(i for s in data["sections"] for i in s["items"] if i["code"] == "closing_phrase")
    closing["auto"] = {"flags": ["missing_closing", "missing_agent_id"], "deduct": 1}
    svc.ensure_scorecard(platform.uow(), scorecard_from_mapping(data))
    assert qa("autoqa", "rerun", "--json")["scorecard_version"] == 4
    old, new = rows(platform)
    assert new.metrics == old.metrics and new.scorecard_id != old.scorecard_id
    items = {i["code"]: i for i in show_call(platform, call_id)["auto_evaluation"]["items"]}
    assert items["closing_phrase"]["score"] == 3.0  # judged by the new version's rule
