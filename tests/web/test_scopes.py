"""Supervision scopes (监管范围): a supervisor in a QA team oversees agent teams.

The story world's calls belong to the agent teams 一组 (agent A001) and 二组 (agent A002); the
supervisor ``qasup`` sits in the QA team 质检组, as the demo's supervisor does.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli import main
from qa_platform.domain.errors import QaError
from qa_platform.services import users
from scoring import services as scoring
from storage.models import AuditEvent
from storage.models_scopes import SupervisionScope
from tests.factories import FULL, add_person
from tests.web.conftest import as_user, row_version


@pytest.fixture
def qasup(platform, world) -> int:
    return add_person(platform, "qasup", "supervisor", "质检组")


def _submitted(platform, world) -> int:
    eid, insp = world.evaluation_id, world.ids["insp"]
    scoring.start_evaluation(platform.uow(), eid, insp)
    scoring.save_scores(platform.uow(), eid, insp, FULL)
    scoring.submit_evaluation(platform.uow(), eid, insp)
    return eid


def test_a_qa_team_supervisor_without_scope_sees_no_agent_team(app, platform, world, qasup):
    eid = _submitted(platform, world)
    client = as_user(app, "qasup")
    assert client.get(f"/calls/{world.call_id}").status_code == 404
    assert client.get(f"/evaluations/{eid}").status_code == 404
    assert f"/evaluations/{eid}" not in client.get("/review").get_data(as_text=True)


def test_scope_on_one_team_opens_its_calls_and_evaluations_only(app, platform, world, qasup):
    eid = _submitted(platform, world)
    view = users.set_scope(platform, "qasup", ["一组"], actor="test")
    assert view.teams == ("一组",) and view.explicit and not view.all_teams
    client = as_user(app, "qasup")
    assert client.get(f"/calls/{world.call_id}").status_code == 200
    assert client.get(f"/calls/{world.other_call_id}").status_code == 404
    assert f"/evaluations/{eid}" in client.get("/review").get_data(as_text=True)
    found = client.get("/calls?agent=A002").get_data(as_text=True)
    assert f"/calls/{world.other_call_id}" not in found
    version = row_version(client.get(f"/evaluations/{eid}").get_data(as_text=True))
    client.post(f"/evaluations/{eid}/review", {"action": "approve", "row_version": str(version)})
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "approved"


def test_scope_all_is_the_whole_centre(app, platform, world, qasup):
    users.set_scope(platform, "qasup", None, actor="test")
    client = as_user(app, "qasup")
    assert client.get(f"/calls/{world.call_id}").status_code == 200
    assert client.get(f"/calls/{world.other_call_id}").status_code == 200
    assert users.show_scope(platform, "qasup").all_teams


def test_scope_replaces_the_own_team_rule(app, platform, world):
    """``teamsup`` (team 二组) is moved to 一组: 二组's calls close, 一组's open."""
    users.set_scope(platform, "teamsup", ["一组"], actor="test")
    client = as_user(app, "teamsup")
    assert client.get(f"/calls/{world.other_call_id}").status_code == 404
    assert client.get(f"/calls/{world.call_id}").status_code == 200


def test_calibration_refuses_calls_outside_the_scope(platform, world, qasup):
    users.set_scope(platform, "qasup", ["二组"], actor="test")
    inspectors = [world.ids["insp"], world.ids["insp2"]]
    with pytest.raises(QaError, match="do not exist"):
        scoring.create_calibration(platform.uow(), "校准", [world.call_id], inspectors, qasup)
    made = scoring.create_calibration(
        platform.uow(), "校准", [world.other_call_id], inspectors, qasup
    )
    assert made["session_id"]


def test_calibration_list_and_page_follow_the_scope(app, platform, world, qasup):
    inspectors = [world.ids["insp"], world.ids["insp2"]]
    sup = world.ids["sup"]  # centre-wide
    one = scoring.create_calibration(platform.uow(), "一组校准", [world.call_id], inspectors, sup)
    both = [world.call_id, world.other_call_id]
    mixed = scoring.create_calibration(platform.uow(), "两组校准", both, inspectors, sup)
    users.set_scope(platform, "qasup", ["一组"], actor="test")
    client = as_user(app, "qasup")
    listed = client.get("/calibration").get_data(as_text=True)
    assert "一组校准" in listed and "两组校准" not in listed
    assert client.get(f"/calibration/{one['session_id']}").status_code == 200
    assert client.get(f"/calibration/{mixed['session_id']}").status_code == 404
    users.set_scope(platform, "qasup", None, actor="test")
    assert client.get(f"/calibration/{mixed['session_id']}").status_code == 200


@pytest.mark.parametrize(
    ("who", "teams", "zh"),
    [
        ("qasup", ["九组"], "没有以下班组：九组"),
        ("qasup", ["质检组"], "班组 质检组 是质检组"),
        ("qasup", [], "请至少选择一个坐席班组"),
        ("insp", ["一组"], "用户 insp 的角色是质检员：只有质检主管有监管范围"),
        ("nobody", ["一组"], "没有用户 nobody"),
    ],
)
def test_bad_scopes_are_refused_naming_the_problem(platform, world, qasup, who, teams, zh):
    with pytest.raises(users.UserError) as caught:
        users.set_scope(platform, who, teams, actor="test")
    assert zh in caught.value.localized("zh")
    with platform.uow() as uow:
        assert uow.session.scalars(select(SupervisionScope)).all() == []


def test_cli_sets_and_shows_a_scope(platform, world, qasup):
    runner = CliRunner()
    result = runner.invoke(
        main, ["users", "scope", "qasup", "--teams", "一组，二组", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["teams"] == ["一组", "二组"]
    shown = runner.invoke(main, ["users", "scope", "qasup"], catch_exceptions=False)
    assert "qasup oversees: 一组, 二组" in shown.stdout
    both = runner.invoke(main, ["users", "scope", "qasup", "--teams", "一组", "--all"])
    assert both.exit_code == 2 and "不能同时指定班组" in both.stderr
    unknown = runner.invoke(main, ["users", "scope", "qasup", "--teams", "九组"])
    assert unknown.exit_code == 2 and "九组" in unknown.stderr
    assert users.show_scope(platform, "qasup").teams == ("一组", "二组")
    with platform.uow() as uow:
        actions = uow.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("user.scope") == 1


def test_admin_page_sets_a_scope_and_shows_errors_in_chinese(app, platform, world, qasup):
    admin = as_user(app, "admin")
    page = admin.get("/admin/scopes").get_data(as_text=True)
    assert "监管范围" in page and 'value="一组"' in page and 'value="质检组"' not in page
    resp = admin.post(f"/admin/scopes/{qasup}", {"teams": ["一组", "二组"]})
    assert resp.status_code == 303
    assert users.show_scope(platform, qasup).teams == ("一组", "二组")
    admin.post(f"/admin/scopes/{qasup}", {"teams": ["一组"], "all": "1"})
    page = admin.get("/admin/scopes").get_data(as_text=True)
    assert "不能同时指定班组" in page
    assert users.show_scope(platform, qasup).teams == ("一组", "二组")  # nothing changed
    admin.post(f"/admin/scopes/{world.ids['insp']}", {"all": "1"})
    assert "只有质检主管有监管范围" in admin.get("/admin/scopes").get_data(as_text=True)
    admin.post(f"/admin/scopes/{qasup}", {"all": "1"})
    assert users.show_scope(platform, qasup).all_teams


def test_demo_supervisor_oversees_the_demo_agent_teams(app, platform):
    from qa_platform.services.demo import SUPERVISOR, credentials_file, ensure_demo_people

    people = ensure_demo_people(platform, [("A1001", "一组"), ("A1002", "二组")])
    view = users.show_scope(platform, SUPERVISOR)
    assert view.own_team == "质检组" and view.teams == ("一组", "二组")
    assert json.loads(credentials_file(platform).read_text()) == people
    again = ensure_demo_people(platform, [("A1001", "一组"), ("A1002", "二组")])
    assert again == people  # idempotent: same people, same passwords
