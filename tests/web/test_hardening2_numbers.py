"""Non-finite and out-of-range numbers are refused at every boundary (forms, ids, CLI, JSON)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scoring import services as scoring
from scoring.workflow import MAX_COMMENT_CHARS, Comment
from tests.web.conftest import as_user, row_version


def _v(b, eid):
    return row_version(b.get(f"/evaluations/{eid}").get_data(as_text=True))


def test_non_finite_comment_time_is_refused_and_page_keeps_working(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    v = _v(insp, eid)
    for bad in ["nan", "NaN", "inf", "-inf", "-1", "1e400"]:
        r = insp.post(f"/evaluations/{eid}/comment", {"row_version": v, "at_s": bad, "text": "t"})
        assert r.status_code == 303
    detail = scoring.show_evaluation(platform.uow(), eid)
    assert detail["row_version"] == v and not (detail.get("draft") or {}).get("comments")
    assert insp.get(f"/evaluations/{eid}").status_code == 200
    api = insp.get(f"/api/v1/evaluations/{eid}")
    assert api.status_code == 200
    json.loads(api.get_data(as_text=True), parse_constant=lambda c: pytest.fail(c))


def test_non_finite_scores_are_refused(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    v = _v(insp, eid)
    for bad in ["nan", "inf", "-0.5", "1e999"]:
        insp.post(f"/evaluations/{eid}/save", {"row_version": v, "score_answer_accuracy": bad})
    assert scoring.show_evaluation(platform.uow(), eid)["row_version"] == v


def test_domain_refuses_nan_comment_time(platform, world):
    eid = world.evaluation_id
    with pytest.raises(Exception, match="outside the call"):
        scoring.add_comment(
            platform.uow(),
            eid,
            world.ids["insp"],
            float("nan"),
            "t",
            None,
            at=platform.clock.now(),
            open_draft=True,
        )
    assert Comment(1.0, "x", 1).at_s == 1.0


def test_comment_length_is_capped(app, world, platform):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    v = _v(insp, eid)
    text = "长" * (MAX_COMMENT_CHARS + 1)
    insp.post(f"/evaluations/{eid}/comment", {"row_version": v, "at_s": "1", "text": text})
    assert scoring.show_evaluation(platform.uow(), eid)["row_version"] == v
    assert "评语超过 2000 个字" in insp.get(f"/evaluations/{eid}").get_data(as_text=True)


def test_huge_form_ids_are_refused_naming_the_field(app, world):
    eid = world.evaluation_id
    insp = as_user(app, "insp")
    for bad in [str(2**63), "9" * 40, "-" + "9" * 30, "١٢"]:
        r = insp.post(f"/evaluations/{eid}/save", {"row_version": bad})
        assert r.status_code == 303
        page = insp.get(f"/evaluations/{eid}").get_data(as_text=True)
        assert "row_version" in page


def test_score_filter_refuses_nan(app, world):
    sup = as_user(app, "sup")
    assert sup.get("/calls?score_min=nan").status_code == 400
    assert sup.get("/calls?score_max=" + "9" * 5000).status_code == 400


def test_json_provider_refuses_nan(app):
    with app.app_context(), pytest.raises(ValueError):
        app.json.dumps({"x": float("nan")})


def test_cli_emit_refuses_nan():
    from qa_platform.cli import emit

    with pytest.raises(ValueError):
        emit({"x": float("inf")}, True)


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "comment", "1", "--at", "nan", "--text", "t"],
        ["eval", "comment", "1", "--at", "inf", "--text", "t"],
        ["eval", "show", str(2**63)],
        ["sample", "run", "--period", "2026-01-01..2026-01-31", "--margin", "nan"],
        ["sample", "run", "--period", "2026-01-01..2026-01-31", "--size", "9" * 30],
    ],
)
def test_cli_number_options_refuse_nan_and_out_of_range(args):
    from qa_platform.cli import main

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Invalid value" in result.output


def test_path_ids_beyond_64_bits_are_not_found(app, world):
    sup = as_user(app, "sup")
    huge = "9" * 20
    for url in (f"/api/v1/calls/{huge}", f"/evaluations/{huge}", f"/calls/{huge}"):
        assert sup.get(url).status_code == 404, url
    assert sup.get(f"/calls/{world.call_id}").status_code == 200
