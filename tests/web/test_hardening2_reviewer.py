"""The appeal re-reviewer must be an active inspector or supervisor and not a party to it."""

from __future__ import annotations

import pytest

from qa_platform.domain.errors import Invalid, NotFound
from scoring import services as svc
from tests.web.conftest import as_user, row_version
from tests.web.test_hardening2_blind import _appealed_to


def _appealed(platform, world) -> int:
    return _appealed_to(platform, world, "insp2")


def test_service_refuses_wrong_reviewers(platform, world):
    eid = _appealed(platform, world)
    ids, u, now = world.ids, platform.uow, platform.clock.now()
    with pytest.raises(Invalid, match=str(ids["agent2"])):
        svc.assign_appeal_reviewer(u(), eid, ids["sup"], ids["agent2"], at=now)
    with pytest.raises(Invalid, match="original inspector"):
        svc.assign_appeal_reviewer(u(), eid, ids["sup"], ids["insp"], at=now)
    with pytest.raises(NotFound, match="999"):
        svc.assign_appeal_reviewer(u(), eid, ids["sup"], 999, at=now)
    assert svc.show_evaluation(u(), eid)["appeals"][-1]["reviewer_id"] == ids["insp2"]
    svc.assign_appeal_reviewer(u(), eid, ids["sup"], ids["sup2"], at=now)
    assert svc.show_evaluation(u(), eid)["appeals"][-1]["reviewer_id"] == ids["sup2"]


def test_page_refuses_agent_and_unknown_reviewer_without_500(app, platform, world):
    eid = _appealed(platform, world)
    sup = as_user(app, "sup")
    for bad in (world.ids["agent"], 999, world.ids["insp"]):
        v = row_version(sup.get(f"/evaluations/{eid}").get_data(as_text=True))
        r = sup.post(f"/evaluations/{eid}/assign-reviewer", {"row_version": v, "reviewer_id": bad})
        assert r.status_code == 303
        assert str(bad) in sup.get(f"/evaluations/{eid}").get_data(as_text=True)
    assert (
        svc.show_evaluation(platform.uow(), eid)["appeals"][-1]["reviewer_id"]
        == (world.ids["insp2"])
    )
