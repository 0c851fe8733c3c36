"""The whole evaluation story through the real pages (test client), and bad form input."""

from __future__ import annotations

from scoring import services as scoring
from tests.web.conftest import as_user, row_version

FULL = {"answer_promptly": "4", "greeting_agent_id": "6", "identity_check": "10"}


def _card_items(platform, evaluation_id):
    from web.views import platform as _  # noqa: F401  (app context not needed)

    detail = scoring.show_evaluation(platform.uow(), evaluation_id)
    from storage.models_scoring import ScorecardRow

    with platform.uow() as uow:
        row = uow.session.query(ScorecardRow).filter_by(name=detail["scorecard"]["name"]).first()
        return [i for s in row.definition["sections"] for i in s["items"]]


def full_form(platform, evaluation_id, low: bool = False) -> dict[str, str]:
    form = {}
    for item in _card_items(platform, evaluation_id):
        if item.get("red_line"):
            continue
        form[f"score_{item['code']}"] = str(item["points"] / 2 if low else item["points"])
    return form


def _eval(app, b, eid):
    r = b.get(f"/evaluations/{eid}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_story_through_pages(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    html = _eval(app, insp, eid)
    r = insp.post(
        f"/evaluations/{eid}/save",
        {
            "row_version": row_version(html),
            "action": "submit",
            **full_form(platform, eid, low=True),
        },
    )
    assert r.status_code == 303
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "submitted"

    sup = as_user(app, "sup")
    html = _eval(app, sup, eid)
    r = sup.post(
        f"/evaluations/{eid}/review",
        {"row_version": row_version(html), "action": "return", "reason": "身份核验项评分过低"},
    )
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "returned"
    html = _eval(app, insp, eid)
    assert "身份核验项评分过低" in html
    insp.post(
        f"/evaluations/{eid}/comment",
        {
            "row_version": row_version(html),
            "at_s": "6.8",
            "text": "已核验两项要素",
            "item_code": "identity_check",
        },
    )
    html = _eval(app, insp, eid)
    insp.post(
        f"/evaluations/{eid}/save",
        {"row_version": row_version(html), "action": "submit", **full_form(platform, eid)},
    )
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "submitted"
    for action in ("approve", "publish"):
        html = _eval(app, sup, eid)
        sup.post(f"/evaluations/{eid}/review", {"row_version": row_version(html), "action": action})
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "published"

    agent = as_user(app, "agent")
    html = agent.get(f"/my/results/{eid}").get_data(as_text=True)
    assert "申诉截止时间" in html
    agent.post(
        f"/my/results/{eid}/appeal",
        {"row_version": row_version(html), "items": ["answer_accuracy"], "reason": "解答无误"},
    )
    assert scoring.show_evaluation(platform.uow(), eid)["state"] == "appealed"

    html = _eval(app, sup, eid)
    assert "指定复议人" in html
    sup.post(
        f"/evaluations/{eid}/assign-reviewer",
        {"row_version": row_version(html), "reviewer_id": world.ids["sup2"]},
    )
    sup2 = as_user(app, "sup2")
    html = _eval(app, sup2, eid)
    r = sup2.post(
        f"/evaluations/{eid}/decide",
        {
            "row_version": row_version(html),
            "decision": "revised",
            "score_answer_accuracy": "15",
            "note": "部分采纳",
        },
    )
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["state"] == "final" and detail["current_version"] == 2
    assert detail["versions"][1]["results"]["answer_accuracy"]["score"] == 15
    html = agent.get(f"/my/results/{eid}").get_data(as_text=True)
    assert "改判" in html and f"{detail['total']:.1f}" in html


def test_stale_form_saves_nothing(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    html = _eval(app, insp, eid)
    stale = row_version(html)
    insp.post(f"/evaluations/{eid}/save", {"row_version": stale, "score_answer_accuracy": "10"})
    before = scoring.show_evaluation(platform.uow(), eid)
    r = insp.post(f"/evaluations/{eid}/save", {"row_version": stale, "score_answer_accuracy": "3"})
    assert r.status_code == 303
    after = scoring.show_evaluation(platform.uow(), eid)
    assert after["row_version"] == before["row_version"]
    assert after["draft"]["results"]["answer_accuracy"]["score"] == 10
    page = insp.get(f"/evaluations/{eid}").get_data(as_text=True)
    assert "请刷新页面" in page and "本次未保存任何内容" in page


def test_bad_score_and_partial_submit_save_nothing(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    v = row_version(_eval(app, insp, eid))
    insp.post(f"/evaluations/{eid}/save", {"row_version": v, "score_answer_accuracy": "abc"})
    assert "不是数字" in _eval(app, insp, eid)
    insp.post(f"/evaluations/{eid}/save", {"row_version": v, "score_answer_accuracy": "999"})
    assert "必须在 0 至" in _eval(app, insp, eid)
    # submit with items missing: the draft save in the same form is rolled back too
    insp.post(
        f"/evaluations/{eid}/save",
        {"row_version": v, "action": "submit", "score_answer_accuracy": "5"},
    )
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["state"] == "assigned" and detail["row_version"] == v
    assert "以下评分项尚未评分" in _eval(app, insp, eid)


def test_missing_and_wrong_type_fields(app, world):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    insp.post(f"/evaluations/{eid}/save", {"score_answer_accuracy": "1"})
    assert "字段 &#39;row_version&#39; 必须是整数" in _eval(app, insp, eid)
    v = row_version(_eval(app, insp, eid))
    insp.post(f"/evaluations/{eid}/comment", {"row_version": v, "at_s": "x", "text": "t"})
    assert "at_s" in _eval(app, insp, eid)
    insp.post(f"/evaluations/{eid}/comment", {"row_version": v, "at_s": "999", "text": "t"})
    assert "不在通话范围内" in _eval(app, insp, eid)


def test_other_users_ids_are_not_found_and_audited(app, world, platform):
    other = as_user(app, "insp2")
    assert other.get(f"/evaluations/{world.evaluation_id}").status_code == 404
    r = other.post(f"/evaluations/{world.evaluation_id}/save", {"row_version": 1})
    assert r.status_code == 404
    agent2 = as_user(app, "agent2")
    assert agent2.get(f"/calls/{world.call_id}/audio").status_code == 404
    from sqlalchemy import select

    from storage.models import AuditEvent

    with platform.uow() as uow:
        denied = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "access.denied")
        ).all()
    assert {(d.object_type, d.object_id) for d in denied} >= {
        ("evaluation", str(world.evaluation_id)),
        ("call", str(world.call_id)),
    }


def test_csrf_required(app, world):
    insp = as_user(app, "insp")
    r = insp.client.post(f"/evaluations/{world.evaluation_id}/save", data={"row_version": 1})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)


def test_login_throttled_after_five_failures(app, world, browser):
    for _ in range(5):
        assert browser.login("insp", "wrong").status_code == 401
    r = browser.login("insp")  # right password, but throttled
    assert r.status_code == 429 and "5 分钟" in r.get_data(as_text=True)


def test_language_switch(app, world):
    b = as_user(app, "insp")
    b.get("/lang/en", headers={"Referer": "http://localhost/queue"})
    html = b.get("/queue").get_data(as_text=True)
    assert "My queue" in html and 'lang="en"' in html


def test_two_supervisors_approving_at_once_exactly_one_wins(app, world, platform):
    import threading

    from qa_platform.domain.errors import QaError
    from qa_platform.queries.evaluation_page import scorecard_of
    from qa_platform.services.auth import load_user
    from web.forms import parse_scores

    eid = world.evaluation_id
    insp = load_user(platform, world.ids["insp"])
    v = scoring.show_evaluation(platform.uow(), eid)["row_version"]
    card = scorecard_of(platform, eid)
    scores = parse_scores(card, full_form(platform, eid))
    scoring.save_scores(
        platform.uow(), eid, insp.id, scores, expected_version=v, open_draft=True, submit=True
    )
    v = scoring.show_evaluation(platform.uow(), eid)["row_version"]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def approve(username: str) -> None:
        who = load_user(platform, world.ids[username])
        barrier.wait()
        try:
            scoring.approve_evaluation(platform.uow(), eid, who.id, expected_version=v)
            outcomes.append("ok")
        except QaError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=approve, args=(u,)) for u in ("sup", "sup2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 2 and outcomes.count("ok") == 1, outcomes
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["state"] == "approved" and len(detail["versions"]) == 1


def test_refused_actions_are_explained_in_the_readers_language(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    version = row_version(_eval(app, insp, eid))
    insp.post(f"/evaluations/{eid}/save", {"row_version": version, "action": "submit"})
    page = _eval(app, insp, eid)
    assert "无法提交评价" in page and "以下评分项尚未评分" in page
    insp.client.set_cookie("qa_lang", "en")
    insp.post(f"/evaluations/{eid}/save", {"row_version": version, "action": "submit"})
    page = _eval(app, insp, eid)
    assert "cannot submit evaluation" in page and "items not scored yet" in page
    assert scoring.show_evaluation(platform.uow(), eid)["row_version"] == version


def test_unkeyed_errors_get_a_chinese_headline(app):
    from qa_platform.domain.errors import Conflict
    from web.errors import user_message

    with app.test_request_context("/"):
        assert user_message(Conflict("plan 'x' v3 exists"), 409).startswith("操作与当前状态")
        assert user_message(Conflict("plan 'x' v3 exists"), 409).endswith("（plan 'x' v3 exists）")
    with app.test_request_context("/", headers={"Cookie": "qa_lang=en"}):
        assert user_message(Conflict("plan 'x' v3 exists"), 409) == "plan 'x' v3 exists"
