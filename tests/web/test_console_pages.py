"""Supervisor console and admin pages: plans, runs, calibration, scorecard upload, users, holds."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.cli.web import token_command
from storage.models import Call
from tests.web.conftest import as_user
from web.i18n import catalog

PLAN = "name: weekly\nstream: random\nmethod: simple_random\nmargin: 0.2\nfilters: {analysed_only: false}\n"


def test_plan_yaml_errors_are_shown_and_nothing_saved(app, world):
    sup = as_user(app, "sup")
    r = sup.post("/plans", {"plan_yaml": "name: weekly\nstream: random\ncolour: red\n"})
    assert r.status_code == 400 and "colour" in r.get_data(as_text=True)
    r = sup.post("/plans", {"plan_yaml": "name: [unclosed"})
    assert r.status_code == 400 and "not valid YAML" in r.get_data(as_text=True)
    assert "weekly" not in sup.get("/plans").get_data(as_text=True)


def test_plan_save_shows_computed_size_run_shows_frame_and_seed(app, world):
    sup = as_user(app, "sup")
    assert sup.post("/plans", {"plan_yaml": PLAN}).status_code == 303
    html = sup.get("/plans").get_data(as_text=True)
    row = re.search(r"<td>weekly</td>.*?</tr>", html, re.S).group(0)
    assert re.findall(r"<td>(\d+)\s*</td>", row)[:2] == ["2", "2"]  # frame 2 calls → n = 2 (FPC)
    r = sup.post("/plans/run", {"name": "weekly", "seed": "42"})
    assert r.status_code == 303 and "/runs/" in r.headers["Location"]
    html = sup.get(r.headers["Location"]).get_data(as_text=True)
    assert 'id="seed">42<' in html and 'id="frame-size">2<' in html
    r = sup.post("/plans/run", {"name": "weekly", "seed": "minus one"})
    assert "seed" in sup.get("/plans").get_data(as_text=True)


def test_calibration_and_scorecard_upload(app, world):
    sup = as_user(app, "sup")
    sup.post(
        "/calibration",
        {
            "name": "十一月校准",
            "call_ids": f"{world.call_id}",
            "inspector_ids": [world.ids["insp"], world.ids["insp2"]],
        },
    )
    html = sup.get("/calibration").get_data(as_text=True)
    assert "十一月校准" in html
    sid = re.search(r'/calibration/(\d+)"', html).group(1)
    assert sup.get(f"/calibration/{sid}").status_code == 200
    r = sup.post("/config/scorecard", {"scorecard_yaml": "name: x\nversion: 1\nsections: []\n"})
    assert r.status_code == 400 and "scored" in r.get_data(as_text=True)
    assert "insurance_phone_default" in sup.get("/config").get_data(as_text=True)


def test_supervisor_edits_the_rule_set_as_a_new_active_version(app, world, platform):
    import yaml

    from qa_platform.services import flags as flag_service

    sup = as_user(app, "sup")
    html = sup.get("/config").get_data(as_text=True)
    assert "long_silence" in html  # the active rule set's YAML is offered for editing
    current = flag_service.show_rule_set(
        platform, next(r["version"] for r in flag_service.list_rule_sets(platform) if r["active"])
    )["rules"]
    broken = current | {
        "version": "bad-1",
        "rules": {
            **current["rules"],
            "long_silence": {**current["rules"]["long_silence"], "min_silence_s": -5},
        },
    }
    bad = yaml.safe_dump(broken, allow_unicode=True)
    r = sup.post("/config/rules", {"rules_yaml": bad})
    assert r.status_code == 400 and "rule set form" in r.get_data(as_text=True)
    edited = yaml.safe_dump(current | {"version": "centre-2026-12"}, allow_unicode=True)
    r = sup.post("/config/rules", {"rules_yaml": edited})
    assert r.status_code == 303
    active = [x["version"] for x in flag_service.list_rule_sets(platform) if x["active"]]
    assert active == ["centre-2026-12"]


def test_admin_adds_deactivates_and_holds(app, world, platform):
    admin = as_user(app, "admin")
    r = admin.post("/admin/users", {"username": "newbie", "role": "inspector", "team": "质检组"})
    html = r.get_data(as_text=True)
    assert "newbie" in html and "newbie: " in html  # generated password shown once
    admin.post("/admin/users", {"username": "newbie", "role": "inspector"})
    assert "already exists" in admin.get("/admin/users").get_data(as_text=True)
    admin.post("/admin/users", {"role": "inspector"})
    assert "username" in admin.get("/admin/users").get_data(as_text=True)
    insp = as_user(app, "insp")
    admin.post(f"/admin/users/{world.ids['insp']}", {"active": "0"})
    assert insp.get("/queue").status_code == 302  # a deactivated user loses the session
    admin.post("/admin/calls/hold", {"call_id": world.call_id, "hold": "1", "reason": "诉讼"})
    with platform.uow() as uow:
        assert uow.session.get(Call, world.call_id).legal_hold is True
    admin.post("/admin/calls/hold", {"call_id": "abc", "hold": "1"})
    assert "call_id" in admin.get("/admin/keys").get_data(as_text=True)


def test_search_by_text_flag_and_scope(app, world):
    sup = as_user(app, "sup")
    html = sup.get("/calls?text=理赔进度&flag_type=long_silence").get_data(as_text=True)
    assert html.count('href="/calls/') == 2
    html = sup.get("/calls?text=不存在的词").get_data(as_text=True)
    assert 'href="/calls/' not in html
    agent = as_user(app, "agent")
    html = agent.get("/calls?agent=").get_data(as_text=True)
    assert html.count("<td>A001</td>") == 1 and "A002" not in html
    r = sup.get("/calls?date_from=yesterday")
    assert r.status_code == 400 and "date_from" in r.get_data(as_text=True)


def test_catalogs_cover_every_key_used():
    root = Path(__file__).resolve().parents[2] / "web"
    used = set()
    for path in [*root.rglob("*.html"), *root.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""_\(['"]([a-z_]+\.[a-z_.]+)['"]\)""", text))
        used |= set(re.findall(r"""gettext\(['"]([a-z_]+\.[a-z_.]+)['"]""", text))
    zh, en = catalog("zh"), catalog("en")
    assert set(zh) == set(en)
    assert sorted(used - set(zh)) == []


def test_cli_token_command_creates_working_token(app, world, platform):
    result = CliRunner().invoke(token_command, ["sup", "--json"])
    assert result.exit_code == 0, result.output
    import json

    token = json.loads(result.output)["token"]
    r = app.test_client().get(
        f"/api/v1/calls/{world.call_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200
    with platform.uow() as uow:
        from storage.models_web import ApiToken

        stored = uow.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1


def test_demo_people_sign_in_with_the_printed_passwords(app, world, platform):
    from qa_platform.services.demo import INSPECTORS, SUPERVISOR, ensure_demo_people

    creds = ensure_demo_people(platform)
    assert {SUPERVISOR, *INSPECTORS, "agent_a1001"} <= set(creds)  # "admin" already existed
    assert ensure_demo_people(platform) == creds  # idempotent: the same passwords again
    b = app.test_client()
    b.get("/login")
    with b.session_transaction() as sess:
        token = sess["csrf"]
    r = b.post(
        "/login",
        data={
            "csrf_token": token,
            "username": INSPECTORS[0],
            "password": creds[INSPECTORS[0]],
        },
    )
    assert r.status_code == 303 and r.headers["Location"] == "/home"
