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


def _scorecards(platform) -> int:
    from storage.models_scoring import ScorecardRow

    with platform.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ScorecardRow))


HOSTILE_ITEM_FIELDS = (
    ("points", "abc"),
    ("points", ".nan"),
    ("points", ".inf"),
    ("weight", ".nan"),
    ("weight", "-.inf"),
    ("na_allowed", '"yes"'),
    ("title", "5"),
    ("title", "[a, b]"),
    ("code", "[x]"),
    ("description", "{a: 1}"),
)


def _card(item_field: str = "", value: str = "", top: str = "") -> str:
    item = {
        "code": "greeting",
        "title": "问候",
        "category": "etiquette",
        "points": "10",
        "na_allowed": "false",
    }
    if item_field:
        item[item_field] = value
    lines = "".join(f"        {k}: {v}\n" for k, v in item.items())
    return (top or "name: hostile\nversion: 1\npass_mark: 60\n") + (
        "sections:\n  - code: s1\n    title: 开场\n    items:\n      - " + lines.lstrip()
    )


def test_scorecard_fields_of_the_wrong_type_or_not_finite_are_a_400_naming_the_field(
    app, world, platform
):
    sup = as_user(app, "sup")
    before = _scorecards(platform)
    assert sup.post("/config/scorecard", {"scorecard_yaml": _card()}).status_code in (200, 303)
    stored = _scorecards(platform)
    assert stored == before + 1  # the well-formed card is accepted: the form works
    for field, value in HOSTILE_ITEM_FIELDS:
        r = sup.post("/config/scorecard", {"scorecard_yaml": _card(field, value)})
        assert r.status_code == 400, (field, value, r.status_code)
        assert field in r.get_data(as_text=True), (field, value)
    for top in ("name: [a]\nversion: 1\n", "name: x\nversion: 1\npass_mark: x\n"):
        r = sup.post("/config/scorecard", {"scorecard_yaml": _card(top=top)})
        assert r.status_code == 400, top
    r = sup.post("/config/scorecard", {"scorecard_yaml": "name: x\nversion: 1\nsections: x\n"})
    assert r.status_code == 400 and "sections" in r.get_data(as_text=True)
    assert _scorecards(platform) == stored
