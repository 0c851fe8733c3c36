"""Business lines (issue 14 item 5): a business type's calls are assigned, pre-scored by the
machine and re-judged against their line's scorecard; other types keep the default one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli import main
from scoring import services as svc
from scoring.scorecard import default_scorecard, scorecard_from_mapping, scorecard_to_mapping
from scoring.services import business_lines as lines
from scoring.services.autoqa import evaluate_call, rerun
from storage.models import AuditEvent
from storage.models_autoqa import AutoEvaluationRow
from storage.models_scoring import EvaluationRow, ScorecardRow
from tests.factories import add_call, make_people

CLAIMS = "理赔查询"


def _claims_card():
    data = scorecard_to_mapping(default_scorecard()) | {"name": "claims_card", "version": 1}
    return scorecard_from_mapping(data)


@pytest.fixture
def world(platform):
    people = make_people(platform)
    svc.ensure_scorecard(platform.uow())
    svc.ensure_scorecard(platform.uow(), _claims_card())
    ids = {
        bt: add_call(platform, people.agents[0], None, business_type=bt)
        for bt in (CLAIMS, "保全变更")
    }
    return people, ids


def _card_name(platform, scorecard_id):
    with platform.uow() as uow:
        return uow.session.get(ScorecardRow, scorecard_id).name


def test_a_line_needs_an_active_scorecard_and_a_supervisor(platform, world):
    people, _ = world
    with pytest.raises(lines.BusinessLineInvalid) as caught:
        lines.set_line(platform.uow(), CLAIMS, "no_such_card", people.supervisor)
    assert "no_such_card" in caught.value.localized("zh") and "评分表" in caught.value.localized(
        "zh"
    )
    with pytest.raises(lines.BusinessLineInvalid):
        lines.set_line(platform.uow(), "x" * 65, "claims_card", people.supervisor)
    with pytest.raises(lines.BusinessLineInvalid):
        lines.set_line(platform.uow(), CLAIMS, "claims_card", people.agents[0])
    assert lines.list_lines(platform.uow()) == []
    row = lines.set_line(platform.uow(), CLAIMS, "claims_card", people.supervisor)
    assert row["scorecard"] == "claims_card"
    with platform.uow() as uow:
        audit = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "business_line.set")
        ).all()
    assert [a.object_id for a in audit] == [CLAIMS]


def test_sampling_assigns_each_call_its_lines_scorecard(platform, world):
    people, ids = world
    lines.set_line(platform.uow(), CLAIMS, "claims_card", people.supervisor)
    plan = {"name": "all", "stream": "random", "method": "simple_random", "size": 2}
    svc.save_plan(platform.uow(), plan, actor=people.supervisor)
    run = svc.run_sampling(platform.uow(), "all", seed=3, actor=people.supervisor)
    svc.assign_run(platform.uow(), run["run_id"], actor=people.supervisor)
    with platform.uow() as uow:
        cards = {
            ev.call_id: uow.session.get(ScorecardRow, ev.scorecard_id).name
            for ev in uow.session.scalars(select(EvaluationRow))
        }
    assert cards == {ids[CLAIMS]: "claims_card", ids["保全变更"]: default_scorecard().name}


def test_the_machine_judges_against_the_line_and_rerun_follows_a_new_line(platform, world):
    people, ids = world
    for call_id in ids.values():
        evaluate_call(platform, call_id)

    def judged():
        with platform.uow() as uow:
            rows = uow.session.scalars(select(AutoEvaluationRow)).all()
            return sorted((r.call_id, _card_name(platform, r.scorecard_id)) for r in rows)

    default = default_scorecard().name
    assert judged() == sorted((cid, default) for cid in ids.values())
    lines.set_line(platform.uow(), CLAIMS, "claims_card", people.supervisor)
    result = rerun(platform)
    assert result.calls == 1 and result.lines == ("claims_card:v1",)
    assert (ids[CLAIMS], "claims_card") in judged()
    assert rerun(platform).calls == 0  # nothing left to judge
    evaluate_call(platform, ids["保全变更"])  # an unmapped type stays on the default
    assert judged().count((ids["保全变更"], default)) == 1


def test_cli_lists_sets_and_removes(platform, world):
    runner = CliRunner()
    r = runner.invoke(main, ["business-lines", "set", CLAIMS, "claims_card", "--by", "sup1"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["business-lines", "list", "--json"])
    assert '"claims_card"' in r.output
    r = runner.invoke(main, ["business-lines", "remove", CLAIMS, "--by", "sup1"])
    assert r.exit_code == 0
    r = runner.invoke(main, ["business-lines", "remove", CLAIMS, "--by", "sup1"])
    assert r.exit_code == 1


def test_config_page_sets_a_line(platform, world):
    from tests.web.conftest import Browser
    from web import create_app

    app = create_app({"TESTING": True})
    app.extensions["qa_platform"] = platform
    b = Browser(app.test_client())
    assert b.login("sup1", "x").status_code == 303
    page = b.get("/config").get_data(as_text=True)
    assert "业务条线与评分表" in page and "claims_card" in page
    r = b.post("/config/lines", {"business_type": CLAIMS, "scorecard": "claims_card"})
    assert r.status_code == 303
    assert [x["scorecard"] for x in lines.list_lines(platform.uow())] == ["claims_card"]
    r = b.post("/config/lines", {"business_type": CLAIMS, "scorecard": "nope"})
    assert "nope" in b.get("/config").get_data(as_text=True)  # the flashed message names it
    agent = Browser(app.test_client())
    agent.login("agent0", "x")
    assert (
        agent.post("/config/lines", {"business_type": "x", "scorecard": "claims_card"}).status_code
        == 403
    )
