"""YAML uploads through the pages: bombs and wrongly typed fields are a 400, nothing stored."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models_scoring import SamplingPlanRow
from tests.web.conftest import as_user

BOMB_PLAN = (
    "name: bomb\nsize: 1\nfilters:\n  business_types:\n    - &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"    - &{chr(98 + i)} [" + ", ".join(f"*{chr(97 + i)}" for _ in range(9)) + "]\n"
        for i in range(6)
    )
)


def _plans(platform) -> int:
    with platform.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(SamplingPlanRow))


def test_yaml_bomb_and_bad_types_are_refused(app, world, platform):
    sup = as_user(app, "sup")
    before = _plans(platform)
    for text in (
        BOMB_PLAN,
        "name: [a, b]\nsize: 1\n",
        "name: p2\nsize: 1\nfilters: {business_types: [[1]]}\n",
    ):
        r = sup.post("/plans", {"plan_yaml": text})
        assert r.status_code == 400, text
    assert _plans(platform) == before
    assert sup.get("/plans").status_code == 200
    r = sup.post("/config/rules", {"rules_yaml": "a: &a [1]\nb: *a\n"})
    assert r.status_code == 400 and "anchors" in r.get_data(as_text=True)
    r = sup.post("/config/scorecard", {"scorecard_yaml": "[" * 40 + "]" * 40})
    assert r.status_code == 400
