"""Inspector speed (质检提速) through the test client: the autosave endpoint saves through the save
form's command, refuses a stale version (409) and bad numbers with a Chinese message, is scoped
like the form, and a submit answers the next call of the queue (or home when none is left)."""

from __future__ import annotations

import json
from datetime import date

from scoring import services as scoring
from tests.factories import evaluation_on_new_call
from tests.web.conftest import Browser, as_user, row_version
from tests.web.test_workflow_pages import full_form


def _draft(b: Browser, eid: int, form: dict[str, object]) -> tuple[int, dict[str, object]]:
    r = b.client.post(f"/evaluations/{eid}/draft", data=form, headers={"X-CSRF-Token": b.csrf()})
    return r.status_code, json.loads(r.get_data(as_text=True))


def _version(app, b: Browser, eid: int) -> int:
    return row_version(b.get(f"/evaluations/{eid}").get_data(as_text=True))


def test_the_draft_endpoint_saves_through_the_save_command(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    v = _version(app, insp, eid)
    status, body = _draft(insp, eid, {"row_version": v, "score_answer_accuracy": "12"})
    assert status == 200, body
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["state"] == "draft"
    assert detail["draft"]["results"]["answer_accuracy"]["score"] == 12
    assert body["row_version"] == detail["row_version"] > v
    assert body["state"] == "draft" and body["state_label"] == "草稿"
    assert len(str(body["saved_at"])) == 8  # HH:MM:SS
    # the next autosave sends the version it was given and is accepted
    status, _ = _draft(
        insp, eid, {"row_version": body["row_version"], "score_answer_accuracy": "9"}
    )
    assert status == 200
    assert (
        scoring.show_evaluation(platform.uow(), eid)["draft"]["results"]["answer_accuracy"]["score"]
        == 9
    )


def test_a_stale_version_is_a_409_in_chinese_and_overwrites_nothing(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    v = _version(app, insp, eid)
    assert _draft(insp, eid, {"row_version": v, "score_answer_accuracy": "10"})[0] == 200
    status, body = _draft(insp, eid, {"row_version": v, "score_answer_accuracy": "3"})
    assert status == 409
    assert "请刷新页面" in str(body["error"]) and "本次未保存任何内容" in str(body["error"])
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["draft"]["results"]["answer_accuracy"]["score"] == 10


def test_bad_numbers_are_refused_with_a_message_naming_them(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    v = _version(app, insp, eid)
    for raw, words in (
        ("abc", "不是数字"),
        ("999", "必须在 0 至"),
        ("nan", "score_answer_accuracy"),
    ):
        status, body = _draft(insp, eid, {"row_version": v, "score_answer_accuracy": raw})
        assert status == 400 and words in str(body["error"]), (raw, body)
    status, body = _draft(insp, eid, {"row_version": "1e999", "score_answer_accuracy": "3"})
    assert status == 400 and "row_version" in str(body["error"])
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["state"] == "assigned" and detail["row_version"] == v


def test_other_people_and_a_missing_csrf_token_are_refused(app, world, platform):
    eid = world.evaluation_id
    v = _version(app, as_user(app, "insp"), eid)
    form = {"row_version": v, "score_answer_accuracy": "5"}
    other = as_user(app, "insp2")  # another inspector: not their evaluation
    assert (
        other.client.post(
            f"/evaluations/{eid}/draft", data=form, headers={"X-CSRF-Token": other.csrf()}
        ).status_code
        == 404
    )
    sup = as_user(app, "sup")  # a supervisor reviews, never scores
    assert (
        sup.client.post(
            f"/evaluations/{eid}/draft", data=form, headers={"X-CSRF-Token": sup.csrf()}
        ).status_code
        == 403
    )
    insp = as_user(app, "insp")
    assert insp.client.post(f"/evaluations/{eid}/draft", data=form).status_code == 400
    anonymous = app.test_client()
    assert anonymous.post(f"/evaluations/{eid}/draft", data=form).status_code in (302, 400)
    assert scoring.show_evaluation(platform.uow(), eid)["row_version"] == v


def test_submit_answers_the_next_call_of_the_queue_and_its_fragment(app, world, platform):
    ids, first = world.ids, world.evaluation_id
    second = evaluation_on_new_call(
        platform, ids["agent"], ids["insp"], ids["sup"], date(2026, 1, 5)
    )
    insp = as_user(app, "insp")
    form = {"row_version": _version(app, insp, first), **full_form(platform, first)}
    status, body = _draft(insp, first, form | {"action": "submit_next"})
    assert status == 200, body
    assert body["state"] == "submitted" and body["next_url"] == f"/evaluations/{second}"
    assert "下一通" in str(body["message"])
    assert scoring.show_evaluation(platform.uow(), first)["state"] == "submitted"
    fragment = insp.get(f"{body['next_url']}?fragment=1").get_data(as_text=True)
    assert f'data-evaluation="{second}"' in fragment and 'id="score-form"' in fragment
    assert "<html" not in fragment and 'id="shortcut-help"' in fragment


def test_submitting_the_last_call_goes_home_with_a_message(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    form = {"row_version": _version(app, insp, eid), **full_form(platform, eid)}
    status, body = _draft(insp, eid, form | {"action": "submit"})
    assert status == 200 and body["next_url"] is None and body["home_url"] == "/home"
    home = insp.get("/home").get_data(as_text=True)
    assert "队列中没有待评分的通话了" in home


def test_a_refused_submit_leaves_the_draft_and_the_queue_as_they_were(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    v = _version(app, insp, eid)
    form = {"row_version": v, "action": "submit", "score_answer_accuracy": "3"}
    status, body = _draft(insp, eid, form)  # items left blank: the submit is refused
    assert status == 409 and "next_url" not in body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(body["error"])), body
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["state"] == "assigned" and detail["row_version"] == v  # the save rolled back


def test_the_page_lists_the_shortcuts_and_loads_its_script(app, world):
    html = as_user(app, "insp").get(f"/evaluations/{world.evaluation_id}").get_data(as_text=True)
    assert "快捷键" in html and "Ctrl/⌘+S 保存草稿" in html and "F 下一个标记" in html
    assert "/static/inspector.js" in html and 'id="follow-playback"' in html
    assert 'id="autosave-status"' in html and "onclick" not in html
    en = as_user(app, "insp")
    en.get("/lang/en")
    page = en.get(f"/evaluations/{world.evaluation_id}").get_data(as_text=True)
    assert "Shortcuts:" in page and "Follow playback" in page


def test_without_the_script_submit_and_next_redirects_to_the_next_call(app, world, platform):
    ids, first = world.ids, world.evaluation_id
    second = evaluation_on_new_call(
        platform, ids["agent"], ids["insp"], ids["sup"], date(2026, 1, 6)
    )
    insp = as_user(app, "insp")
    form = {"row_version": _version(app, insp, first), **full_form(platform, first)}
    r = insp.post(f"/evaluations/{first}/save", form | {"action": "submit_next"})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/evaluations/{second}")
    assert "已打开队列中的下一通" in insp.get(r.headers["Location"]).get_data(as_text=True)
    assert scoring.show_evaluation(platform.uow(), first)["state"] == "submitted"
    # the last one goes home; a refused one stays on its page with the reason
    v = _version(app, insp, second)
    r = insp.post(f"/evaluations/{second}/save", {"row_version": v, "action": "submit_next"})
    assert r.headers["Location"].endswith(f"/evaluations/{second}")
    form = {"row_version": v, **full_form(platform, second), "action": "submit_next"}
    r = insp.post(f"/evaluations/{second}/save", form)
    assert r.headers["Location"].endswith("/home")
