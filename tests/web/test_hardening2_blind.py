"""A blind appeal re-reviewer never learns who scored first: not in the queue, page or API."""

from __future__ import annotations

import json
from datetime import timedelta

from qa_platform.queries.evaluation_page import evaluation_page
from qa_platform.queries.work_queues import inspector_queue
from qa_platform.services.auth import SessionUser
from scoring import services as svc
from storage.models import User
from tests.web.conftest import as_user


def _appealed_to(platform, world, reviewer: str) -> int:
    eid, ids, u = world.evaluation_id, world.ids, platform.uow
    now = platform.clock.now()
    svc.start_evaluation(u(), eid, ids["insp"], at=now)
    card = svc.show_evaluation(u(), eid)["scorecard"]
    assert card
    from tests.web.test_workflow_pages import _card_items

    scores = {
        i["code"]: (False if i.get("red_line") else i["points"]) for i in _card_items(platform, eid)
    }
    svc.save_scores(u(), eid, ids["insp"], scores, at=now)
    svc.add_comment(u(), eid, ids["insp"], 1.0, "好", None, at=now)
    svc.submit_evaluation(u(), eid, ids["insp"], at=now)
    svc.approve_evaluation(u(), eid, ids["sup"], at=now)
    svc.publish_evaluation(u(), eid, ids["sup"], at=now)
    svc.file_appeal(
        u(), eid, ids["agent"], "不认可", ["answer_accuracy"], at=now + timedelta(minutes=1)
    )
    svc.assign_appeal_reviewer(u(), eid, ids["sup"], ids[reviewer], at=now)
    return eid


def _me(platform, username):
    with platform.uow() as uow:
        return SessionUser.of(uow.session.query(User).filter_by(username=username).one())


def test_blind_reviewer_gets_no_inspector_id_or_name(app, world, platform):
    eid = _appealed_to(platform, world, "insp2")
    insp_id = world.ids["insp"]
    with platform.uow() as uow:
        insp_user = uow.session.get(User, insp_id)
        insp_name = insp_user.display_name or insp_user.username
    me = _me(platform, "insp2")
    queue = inspector_queue(platform, me)["appeals"]
    assert [e["id"] for e in queue] == [eid] and queue[0]["inspector"] == ""
    page = evaluation_page(platform, me, eid)
    assert page["inspector_id"] is None and insp_id not in page["names"]
    detail = page["evaluation"]
    assert detail["inspector_id"] is None
    assert all(v["author_id"] != insp_id for v in detail["versions"])
    assert all(c["author_id"] != insp_id for v in detail["versions"] for c in v["comments"])
    body = as_user(app, "insp2").get(f"/api/v1/evaluations/{eid}").get_data(as_text=True)
    data = json.loads(body)
    assert data["inspector_id"] is None and data["versions"][0]["author_id"] is None
    html = as_user(app, "insp2").get("/queue").get_data(as_text=True)
    assert 'class="open-eval"' in html and f"<td>{insp_name}</td>" not in html
    # staff (not reviewing) still see who scored
    assert svc.show_evaluation(platform.uow(), eid, viewer=world.ids["sup"])["inspector_id"] == (
        insp_id
    )
