"""Every route, requested as every role and anonymously, answers what the table says.

The table is explicit: a route of ``app.url_map`` without a row fails
``test_every_route_is_in_the_table``; a route without an ``@policy`` fails
``test_every_route_declares_a_policy``.

Every request carries valid input for the route (real ids and form bodies built through the
services), so the answer depends on who asks, not on what was sent:

- allowed: a 2xx or 3xx (a page action's redirect must not carry an error message, a signed-in
  user must not be sent to the sign-in page); a 400, 409 or 413 never counts as allowed;
- denied: 403 for a role outside the table, 404 for an object outside the scope of an
  other-team supervisor (own-team rule) or of a QA-team supervisor whose supervision scope
  (监管范围) holds only the other agent team, and for anonymous users a redirect to the sign-in page (401 for the API).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from werkzeug.routing import Rule

from qa_platform.services import flags as flag_service
from qa_platform.services import users
from scoring import services as scoring
from tests.factories import (
    FULL,
    PASSWORD,
    StoryWorld,
    add_call,
    add_person,
    evaluation_on_new_call,
    publish_scored,
    team_of,
    tone_wav,
)
from tests.web.conftest import Browser, as_user
from web import create_app
from web.api import OPENAPI
from web.policy import policy_of

A, S, INS, G = "admin", "supervisor", "inspector", "agent"
STAFF, ALL, SUP = {A, S, INS}, {A, S, INS, G}, {A, S}
PUBLIC = "public"
# endpoint → (roles allowed, object-scoped: an other-team supervisor gets 404)
TABLE: dict[str, tuple[object, bool]] = {
    "static": (PUBLIC, False),
    "auth.healthz": (PUBLIC, False),
    "auth.home": (PUBLIC, False),
    "auth.login": (PUBLIC, False),
    "auth.set_lang": (PUBLIC, False),
    "auth.logout": (ALL, False),
    "inspector.queue": ({INS}, False),
    "inspector.evaluation": (STAFF, True),
    "inspector.save": ({INS}, True),
    "inspector.draft": ({INS}, True),  # speed: the page's autosave / submit-then-next (JSON)
    "inspector.comment": ({INS}, True),
    "inspector.decide": (STAFF, True),
    "supervisor.review": (SUP, False),
    "supervisor.review_action": (SUP, True),
    "supervisor.appeals": (SUP, False),
    "supervisor.assign_reviewer": (SUP, True),
    "supervisor.plans": (SUP, False),
    "supervisor.plans_save": (SUP, False),
    "supervisor.plans_run": (SUP, False),
    "supervisor.run": (SUP, False),
    "supervisor.run_assign": (SUP, False),
    "calibration.index": (SUP, False),
    "calibration.create": (SUP, False),
    "calibration.show": (SUP, True),
    "calibration.close": (SUP, True),
    "calibration.mine": ({INS}, False),
    "calibration.score": ({INS, S}, True),  # a participant, or the supervisor as reference
    "calibration.score_save": ({INS, S}, True),
    "supervisor.config": (SUP, False),
    "supervisor.config_scorecard": (SUP, False),
    "supervisor.config_rules": (SUP, False),
    "supervisor.config_line": (SUP, False),
    "agent.results": ({G}, False),
    "agent.result": ({G}, True),
    "agent.appeal": ({G}, True),
    "admin.users_page": ({A}, False),
    "admin.users_add": ({A}, False),
    "admin.users_update": ({A}, False),
    "admin.teams": ({A}, False),
    "admin.scopes_page": ({A}, False),
    "admin.scopes_update": ({A}, False),
    "admin.keys_page": ({A}, False),
    "admin.legal_hold": ({A}, False),
    "admin.retention_class": ({A}, False),
    "calls.search": (ALL, False),
    "calls.show": (STAFF, True),
    "calls.audio": (ALL, True),
    "calls.waveform": (ALL, True),
    "api.openapi": (PUBLIC, False),
    "api.upload": (SUP, False),
    "api.surveys_import": (SUP, False),
    "api.call_status": (ALL, True),
    "api.transcript": (ALL, True),
    "api.flags": (ALL, True),
    "api.call_evaluations": (ALL, True),
    "api.evaluation": (ALL, True),
    "api.appeals": (ALL, False),
    "api.list_calls": (ALL, False),
    "api.list_evaluations": (ALL, False),
    "api.list_reports": (ALL, False),
    "api.report_download": (ALL, False),
    # Reports: supervisors and admins see every version, inspectors and agents published ones
    # (the matrix reads a published snapshot); supervisors of any team read centre reports.
    "reports.index": (ALL, False),
    "reports.compute": (SUP, False),
    "reports.show": (ALL, False),
    "reports.chart": (ALL, False),
    "reports.export": (ALL, False),
    "reports.publish": (SUP, False),
    # Operations: readiness is public (details only to the scraper); /metrics answers only
    # the scraper (loopback or QA_METRICS_TOKEN: the matrix's test client is on loopback)
    "health.readyz": (PUBLIC, False),
    "metrics.metrics": (PUBLIC, False),
    # Complaint desk: centre-wide for supervisors and admins (the cases name calls only)
    "complaints.index": (SUP, False),
    "complaints.show": (SUP, False),
    "complaints.action": (SUP, False),
    "complaints.open_from_call": (SUP, True),
    # Home pages: the supervisor's dashboard (scoped counts) and its drill-down, the inspector's home
    "dashboard.supervisor": (SUP, False),
    "dashboard.evaluations": (SUP, False),
    "dashboard.inspector": ({INS}, False),
    # Coaching tasks (辅导): agents their own, supervisors their teams' (object-scoped)
    "coaching.index": ({A, S, G}, False),
    "coaching.acknowledge": ({G}, False),
    "coaching.coach": (SUP, True),
    # Uploads and pipeline progress: supervisors and admins; a retry names a call in scope
    "upload.page": (SUP, False),
    "upload.upload_file": (SUP, False),
    "upload.manifest": (SUP, False),
    "pipeline.page": (SUP, False),
    "pipeline.retry": (SUP, True),
}
LOGINS = {
    "admin": "admin",
    "supervisor": "sup",
    "inspector": "insp",
    "agent": "agent",
    "other_supervisor": "teamsup",
    # supervisors of the QA team 质检组 with a supervision scope: 一组 (the objects' team), 二组
    "scoped_supervisor": "qasup",
    "out_of_scope_supervisor": "qasup2",
}
OUT_OF_SCOPE = ("other_supervisor", "out_of_scope_supervisor")
SCOPED_SUPERVISORS = {"qasup": ["一组"], "qasup2": ["二组"]}
# Routes that answer a successful request with a redirect to the sign-in page by design.
TO_LOGIN_BY_DESIGN = {"auth.logout", "auth.home"}


def _routes(app: Flask) -> Iterator[tuple[Rule, str]]:
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_declares_a_policy(platform):
    app = create_app()
    missing = [
        r.endpoint
        for r in app.url_map.iter_rules()
        if r.endpoint != "static" and policy_of(app, r.endpoint) is None
    ]
    assert missing == []


def test_every_route_is_in_the_table(platform):
    app = create_app()
    assert {r.endpoint for r, _ in _routes(app)} == set(TABLE)


def test_openapi_paths_match_the_url_map(platform):
    app = create_app()
    served = {
        (str(r.rule).removeprefix("/api/v1").replace("<int:", "{").replace(">", "}"), m.lower())
        for r, m in _routes(app)
        if r.endpoint.startswith("api.")
    }
    documented = {(p, m) for p, ops in OPENAPI["paths"].items() for m in ops}
    assert served == documented


# --------------------------------------------------------------------------- the objects
@dataclass
class Objects:
    """Real objects for every URL and form, all on agent A001's team (一组), so that the
    other-team supervisor (二组) is outside their scope."""

    platform: Any
    world: StoryWorld
    who: str
    tmp: Path
    evaluations: dict[str, int] = field(default_factory=dict)
    run_id: int = 0
    session_id: int = 0
    closable_session_id: int = 0  # closed by the matrix; the other one stays open to score
    snapshot_id: int = 0
    draft_snapshot_id: int = 0
    case_id: int = 0
    coaching_id: int = 0

    def row_version(self, purpose: str) -> int:
        detail = scoring.show_evaluation(self.platform.uow(), self.evaluations[purpose])
        return int(detail["row_version"])


DAYS = {  # one call per purpose, each on its own day, so a plan can sample exactly that call
    "submitted": date(2026, 1, 5),
    "published": date(2026, 1, 6),
    "appealed": date(2026, 1, 7),
    "to_decide": date(2026, 1, 8),
    "unassigned": date(2026, 1, 9),
    "coaching": date(2026, 1, 12),
}
REPORT_DAY = DAYS["published"]


def _objects(platform: Any, world: StoryWorld, who: str, tmp: Path) -> Objects:
    ids, u = world.ids, platform.uow
    obj = Objects(platform, world, who, tmp)
    for username, teams in SCOPED_SUPERVISORS.items():
        ids[username] = add_person(platform, username, "supervisor", "质检组")
        users.set_scope(platform, username, teams, actor="test")
    sup, agent = ids["sup"], ids["agent"]

    def new(purpose: str, inspector: str = "insp") -> int:
        eid = evaluation_on_new_call(platform, agent, ids[inspector], sup, DAYS[purpose])
        obj.evaluations[purpose] = eid
        return eid

    obj.evaluations["open"] = world.evaluation_id  # assigned to insp, being scored
    scoring.start_evaluation(u(), world.evaluation_id, ids["insp"])
    eid = new("submitted")
    scoring.start_evaluation(u(), eid, ids["insp"])
    scoring.save_scores(u(), eid, ids["insp"], FULL)
    scoring.submit_evaluation(u(), eid, ids["insp"])
    publish_scored(platform, new("published"), ids["insp"], sup)
    publish_scored(platform, eid := new("appealed"), ids["insp"], sup)
    scoring.file_appeal(u(), eid, agent, "未说明理由", ["identity_check"])
    # The appeal to decide was scored by insp2 and is re-reviewed by the user asking (or by a
    # supervisor when the user may not decide), never by its own inspector.
    publish_scored(platform, eid := new("to_decide", "insp2"), ids["insp2"], sup)
    scoring.file_appeal(u(), eid, agent, "身份核验已完成", ["identity_check"])
    reviewer = {"admin": "admin", "inspector": "insp", "scoped_supervisor": "qasup"}.get(who, "sup")
    scoring.assign_appeal_reviewer(u(), eid, sup, ids[reviewer])

    new("unassigned")
    below = dict(FULL, abuse_customer=True)  # a red line: a coaching task for the agent
    publish_scored(platform, new("coaching"), ids["insp"], sup, below)
    obj.coaching_id = _coaching_task(platform, obj.evaluations["coaching"])
    only = {"agent_ids": [agent], "period_start": "2026-01-09", "period_end": "2026-01-09"}
    plan = {"name": "one-day", "stream": "random", "size": 1, "filters": only}
    scoring.save_plan(u(), plan, actor=sup)
    obj.run_id = scoring.run_sampling(u(), "one-day", seed=3, actor=sup)["run_id"]
    call_ids, inspectors = [world.call_id], [ids["insp"], ids["insp2"]]
    # the reference (标准答案) is the supervisor asking, so that they may score in the browser
    ref = ids["qasup"] if who == "scoped_supervisor" else sup
    obj.session_id = scoring.create_calibration(
        u(), "校准", call_ids, inspectors, actor=sup, reference_by=ref
    )["session_id"]
    obj.closable_session_id = scoring.create_calibration(
        u(), "待结束", call_ids, inspectors, actor=sup
    )["session_id"]
    _reports(obj)
    from qa_platform.services import complaints

    case = complaints.open_case(platform, [world.call_id], "complaint", "矩阵工单", actor="sup")
    obj.case_id = case.id
    return obj


def _coaching_task(platform: Any, evaluation_id: int) -> int:
    from sqlalchemy import select

    from storage.models_coaching import CoachingTaskRow

    with platform.uow() as uow:
        stmt = select(CoachingTaskRow.id).where(CoachingTaskRow.evaluation_id == evaluation_id)
        return int(uow.session.scalars(stmt).one())


def _reports(obj: Objects) -> None:
    from scoring import reports

    u = obj.platform.uow
    snap = reports.compute_report(u(), "daily", REPORT_DAY)
    reports.publish_report(u(), snap["id"], obj.world.ids["sup"])
    obj.snapshot_id = snap["id"]
    obj.draft_snapshot_id = reports.compute_report(u(), "weekly", REPORT_DAY)["id"]


# --------------------------------------------------------------------------- the requests
@dataclass
class Call:
    """One request: URL values (beyond the defaults), a form body, extra client arguments."""

    values: dict[str, Any] = field(default_factory=dict)
    form: dict[str, Any] | None = None
    kw: dict[str, Any] = field(default_factory=dict)


def _scores() -> dict[str, str]:
    return {f"score_{code}": str(points) for code, points in FULL.items() if points is not False}


def _scorecard_yaml() -> str:
    text = (resources.files("scoring") / "data" / "default_scorecard.yaml").read_text("utf-8")
    return yaml.safe_dump(yaml.safe_load(text) | {"version": 99}, allow_unicode=True)


def _rules_yaml(o: Objects) -> str:
    versions = flag_service.list_rule_sets(o.platform)
    active = next(r["version"] for r in versions if r["active"])
    current = flag_service.show_rule_set(o.platform, active)["rules"]
    return yaml.safe_dump(current | {"version": f"matrix-{o.who}"}, allow_unicode=True)


def _upload(o: Objects) -> Call:
    wav = tone_wav(o.tmp / f"upload-{o.who}.wav", 5.0, 330.0).read_bytes()
    form = {"file": (io.BytesIO(wav), "上传.wav"), "agent": "A002", "team": "二组"}
    return Call(form=form, kw={"content_type": "multipart/form-data", "csrf_header": True})


def _eval(purpose: str, form: Callable[[Objects], dict[str, Any]] | None = None) -> Any:
    def build(o: Objects) -> Call:
        body = None if form is None else {"row_version": o.row_version(purpose), **form(o)}
        return Call({"evaluation_id": o.evaluations[purpose]}, body)

    return build


def _upload_page_file(o: Objects) -> Call:
    wav = tone_wav(o.tmp / f"page-upload-{o.who}.wav", 4.0, 370.0).read_bytes()
    form = {"file": (io.BytesIO(wav), "页面上传.wav"), "agent": "A001", "direction": "in"}
    return Call(form=form, kw={"content_type": "multipart/form-data", "csrf_header": True})


def _manifest(o: Objects) -> Call:
    text = "file,agent,team\na.wav,A001,一组\n".encode()
    form = {"manifest": (io.BytesIO(text), "清单.csv")}
    return Call(form=form, kw={"content_type": "multipart/form-data", "csrf_header": True})


def _retry(o: Objects) -> Call:
    """A dead-lettered call of agent A001's team (一组), fresh for each request."""
    from tests.helpers.job_states import dead_letter

    ids = o.world.ids
    team = team_of(o.platform, [ids["agent"]])[ids["agent"]]
    call_id = add_call(o.platform, ids["agent"], team, status="processing")
    dead_letter(o.platform, call_id, "transcribe", "matrix: model missing")
    return Call(form={"call_id": str(call_id), "stage": "transcribe"})


REQUESTS: dict[str, Callable[[Objects], Call]] = {
    "static": lambda o: Call({"filename": "app.css"}),
    "auth.set_lang": lambda o: Call({"code": "en"}),
    "inspector.evaluation": _eval("open"),
    "inspector.save": _eval("open", lambda o: {"action": "save", **_scores()}),
    "inspector.draft": _eval("open", lambda o: {"action": "save", **_scores()}),
    "inspector.comment": _eval("open", lambda o: {"at_s": "6.8", "text": "已核验两项要素"}),
    "inspector.decide": _eval("to_decide", lambda o: {"decision": "upheld", "note": "维持"}),
    "supervisor.review_action": _eval("submitted", lambda o: {"action": "approve"}),
    "supervisor.assign_reviewer": _eval("appealed", lambda o: {"reviewer_id": o.world.ids["sup2"]}),
    "supervisor.plans_save": lambda o: Call(
        form={"plan_yaml": "name: weekly\nstream: random\nmethod: simple_random\nsize: 1\n"}
    ),
    "supervisor.plans_run": lambda o: Call(form={"name": "story", "seed": "11"}),
    "supervisor.run": lambda o: Call({"run_id": o.run_id}),
    "supervisor.run_assign": lambda o: Call({"run_id": o.run_id}, {}),
    "calibration.create": lambda o: Call(
        form={
            "name": "十二月校准",
            # a team supervisor calibrates a call of their own team (二组); other teams' calls
            # are refused (tests/web/test_hardening2_calibration.py)
            "call_ids": str(o.world.other_call_id if o.who in OUT_OF_SCOPE else o.world.call_id),
            "inspector_ids": [o.world.ids["insp"], o.world.ids["insp2"]],
        }
    ),
    "calibration.show": lambda o: Call({"session_id": o.session_id}),
    "calibration.close": lambda o: Call({"session_id": o.closable_session_id}, {}),
    "calibration.score": lambda o: Call({"session_id": o.session_id}),
    "calibration.score_save": lambda o: Call({"session_id": o.session_id}, _scores()),
    "supervisor.config_scorecard": lambda o: Call(form={"scorecard_yaml": _scorecard_yaml()}),
    "supervisor.config_rules": lambda o: Call(form={"rules_yaml": _rules_yaml(o)}),
    "supervisor.config_line": lambda o: Call(form={"business_type": "理赔", "remove": "1"}),
    "agent.result": _eval("published"),
    "agent.appeal": _eval(
        "published", lambda o: {"reason": "已核验身份", "items": ["identity_check"]}
    ),
    "admin.users_add": lambda o: Call(
        form={"username": f"new-{o.who}", "role": "agent", "team": "一组", "agent_code": "A009"}
    ),
    "admin.users_update": lambda o: Call(
        {"user_id": o.world.ids["agent2"]}, {"team": "二组", "active": "1"}
    ),
    "admin.scopes_update": lambda o: Call({"user_id": o.world.ids["qasup2"]}, {"teams": ["二组"]}),
    "admin.legal_hold": lambda o: Call(
        form={"call_id": o.world.other_call_id, "hold": "1", "reason": "诉讼"}
    ),
    "admin.retention_class": lambda o: Call(
        form={"call_id": o.world.other_call_id, "klass": "complaint"}
    ),
    "calls.search": lambda o: Call(kw={"query_string": {"agent": "A001"}}),
    "dashboard.evaluations": lambda o: Call(kw={"query_string": {"team": "一组"}}),
    "api.upload": _upload,
    "upload.upload_file": _upload_page_file,
    "upload.manifest": _manifest,
    "pipeline.retry": _retry,
    "api.surveys_import": lambda o: Call(
        form=b"call_external_id,survey_id,rating,answered_at\nNONE,S-1,5,2026-03-02T10:00:00+08:00\n",  # type: ignore[arg-type]
        kw={"content_type": "text/csv", "csrf_header": True},
    ),
    "api.evaluation": _eval("published"),
    "api.list_calls": lambda o: Call(kw={"query_string": {"agent": "A001", "limit": "5"}}),
    "api.list_evaluations": lambda o: Call(kw={"query_string": {"status": "published"}}),
    "api.report_download": lambda o: Call(
        {"snapshot_id": o.snapshot_id}, kw={"query_string": {"format": "csv"}}
    ),
    "reports.compute": lambda o: Call(form={"kind": "monthly", "date": "2026-01-06"}),
    "reports.show": lambda o: Call({"snapshot_id": o.snapshot_id}),
    "reports.chart": lambda o: Call({"snapshot_id": o.snapshot_id, "name": "scores"}),
    "reports.export": lambda o: Call({"snapshot_id": o.snapshot_id, "fmt": "csv"}),
    "reports.publish": lambda o: Call({"snapshot_id": o.draft_snapshot_id}, {}),
    "complaints.show": lambda o: Call({"case_id": o.case_id}),
    "coaching.acknowledge": lambda o: Call({"task_id": o.coaching_id}, {}),
    "coaching.coach": lambda o: Call(
        {"task_id": o.coaching_id}, {"note": "复听录音，讲解服务用语", "row_version": "1"}
    ),
    "complaints.open_from_call": lambda o: Call(form={"kind": "complaint", "summary": "服务态度"}),
    "complaints.action": lambda o: Call(
        {"case_id": o.case_id}, {"action": "close", "text": "已致歉", "row_version": "1"}
    ),
}


def _request(client: Browser, rule: Rule, method: str, o: Objects) -> Any:
    call = REQUESTS.get(rule.endpoint, lambda _: Call())(o)
    defaults = {"call_id": o.world.call_id}
    values = {**defaults, **call.values}
    url = rule.build({k: values[k] for k in rule.arguments})[1]
    kw = dict(call.kw)
    if method == "GET":
        return client.get(url, **kw)
    if kw.pop("csrf_header", False):  # the API takes the session's token as a header
        return client.client.post(
            url, data=call.form, headers={"X-CSRF-Token": client.csrf()}, **kw
        )
    return client.post(url, call.form or {}, **kw)


def _login_request(who: str, app: Flask) -> Any:
    """Sign in on a fresh client (the matrix's own client keeps its session)."""
    fresh = Browser(app.test_client())
    return fresh.login(LOGINS.get(who, "agent"), PASSWORD)


# --------------------------------------------------------------------------- the verdicts
def _expected(endpoint: str, who: str) -> str:
    roles, scoped = TABLE[endpoint]
    if roles == PUBLIC:
        return "allowed"
    if who == "anonymous":
        return "to_login"
    role = "supervisor" if who in (*OUT_OF_SCOPE, "scoped_supervisor") else who
    if role not in roles:
        return "forbidden"
    if scoped and who in OUT_OF_SCOPE:
        return "not_found"
    return "allowed"


def _flashed_errors(client: Browser) -> list[str]:
    with client.client.session_transaction() as sess:
        flashes = sess.pop("_flashes", [])
    return [message for category, message in flashes if category == "error"]


def _verdict(endpoint: str, resp: Any, errors: list[str], want: str) -> bool:
    status, location = resp.status_code, resp.headers.get("Location", "")
    if want == "forbidden":
        return status == 403
    if want == "not_found":
        return status == 404
    if want == "to_login":
        api = endpoint.startswith("api.")
        return status == 401 if api else (status == 302 and "/login" in location)
    sent_to_login = "/login" in location and endpoint not in TO_LOGIN_BY_DESIGN
    return 200 <= status < 400 and not errors and not sent_to_login


@pytest.mark.parametrize("who", ["anonymous", *LOGINS])
def test_access_matrix(app, world, platform, who, tmp_path):
    objects = _objects(platform, world, who, tmp_path)
    if who == "anonymous":
        client = Browser(app.test_client())
        client.get("/login")  # a session with a CSRF token, as a browser has
    else:
        client = as_user(app, LOGINS[who])
    failures = []
    rows = sorted(_routes(app), key=lambda rm: rm[0].endpoint == "auth.logout")  # logout last
    for rule, method in rows:
        if rule.endpoint == "auth.login" and method == "POST":
            resp = _login_request(who, app)
        else:
            resp = _request(client, rule, method, objects)
        errors = _flashed_errors(client)
        want = _expected(rule.endpoint, who)
        if not _verdict(rule.endpoint, resp, errors, want):
            body = resp.get_data(as_text=True)[:200] if resp.status_code >= 400 else ""
            failures.append((method, rule.rule, resp.status_code, want, errors, body))
    assert failures == [], "\n".join(map(str, failures))
