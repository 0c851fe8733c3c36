"""Supervisor console (质检主管): review, publish, appeals, sampling, config (calibration:
``web.calibration``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from qa_platform.domain.errors import QaError
from qa_platform.queries.configuration import config_versions
from qa_platform.queries.sampling import plan_overview, run_detail
from qa_platform.queries.work_queues import evaluations_in
from qa_platform.services import flags as flag_service
from qa_platform.services.context import Platform
from scoring import services as scoring
from scoring.scorecard import scorecard_from_mapping
from scoring.services import business_lines as scoring_lines
from web.forms import parse_review_action
from web.policy import policy, user
from web.uploads import seed_field, yaml_mapping
from web.views import act, form_int, form_text, platform

bp = Blueprint("supervisor", __name__)
SUP = ("supervisor", "admin")
EVAL = ("evaluation", "evaluation_id")


@bp.get("/review")
@policy(roles=SUP)
def review() -> Any:
    p, u = platform(), user()
    return render_template(
        "supervisor/review.html",
        submitted=evaluations_in(p, u, ("submitted",)),
        approved=evaluations_in(p, u, ("approved",)),
        open_work=evaluations_in(p, u, ("assigned", "draft", "returned")),
    )


@bp.post("/evaluations/<int:evaluation_id>/review")
@policy(roles=SUP, obj=EVAL)
def review_action(evaluation_id: int) -> Any:
    """Approve, return (with a comment) or publish."""
    action = request.form.get("action", "")
    back = request.form.get("back") or url_for("supervisor.review")
    back = (
        back if back.startswith("/") and not back.startswith("//") else url_for("supervisor.review")
    )

    def run() -> None:
        p, expected = platform(), form_int("row_version")
        _review(
            p, evaluation_id, parse_review_action(action), expected, request.form.get("reason", "")
        )

    return act(run, back, f"msg.{action or 'saved'}")


def _review(p: Platform, evaluation_id: int, action: str, expected: int, reason: str) -> None:
    """Supervisor review (复核): approve, return (with a reason) or publish."""
    by, at = user().id, p.clock.now()
    if action == "return":
        scoring.return_evaluation(p.uow(), evaluation_id, by, reason, at, expected)
    elif action == "approve":
        scoring.approve_evaluation(p.uow(), evaluation_id, by, at, expected)
    else:
        scoring.publish_evaluation(p.uow(), evaluation_id, by, at, expected)


@bp.get("/appeals")
@policy(roles=SUP)
def appeals() -> Any:
    p, u = platform(), user()
    return render_template(
        "supervisor/appeals.html",
        open_appeals=evaluations_in(p, u, ("appealed",)),
        decided=evaluations_in(p, u, ("final", "published")),
    )


@bp.post("/evaluations/<int:evaluation_id>/assign-reviewer")
@policy(roles=SUP, obj=EVAL)
def assign_reviewer(evaluation_id: int) -> Any:
    def run() -> None:
        p, expected = platform(), form_int("row_version")
        scoring.assign_appeal_reviewer(
            p.uow(),
            evaluation_id,
            user().id,
            form_int("reviewer_id"),
            at=p.clock.now(),
            expected_version=expected,
        )

    return act(run, url_for("inspector.evaluation", evaluation_id=evaluation_id), "msg.assigned")


@bp.get("/plans")
@policy(roles=SUP)
def plans() -> Any:
    return render_template(
        "supervisor/plans.html", data=plan_overview(platform()), draft=request.args.get("draft", "")
    )


@bp.post("/plans")
@policy(roles=SUP)
def plans_save() -> Any:
    text = request.form.get("plan_yaml", "")
    try:
        data = yaml_mapping(text, "sampling plan")
        data.pop("version", None)
        scoring.save_plan(platform().uow(), data, actor=user().id)
    except QaError as exc:
        flash(str(exc), "error")
        return render_template(
            "supervisor/plans.html", data=plan_overview(platform()), draft=text
        ), 400
    flash(wb_msg("msg.saved"), "ok")
    return redirect(url_for("supervisor.plans"), code=303)


def wb_msg(key: str) -> str:
    from web.i18n import gettext

    return gettext(key)


@bp.post("/plans/run")
@policy(roles=SUP)
def plans_run() -> Any:
    name = request.form.get("name", "")
    holder: dict[str, int] = {}

    def run() -> None:
        seed = seed_field(request.form.get("seed"))
        result = scoring.run_sampling(platform().uow(), name, seed=seed, actor=user().id)
        holder["run"] = int(result["run_id"])

    response = act(run, url_for("supervisor.plans"), "msg.sampled")
    return (
        redirect(url_for("supervisor.run", run_id=holder["run"]), 303)
        if "run" in holder
        else response
    )


@bp.get("/runs/<int:run_id>")
@policy(roles=SUP)
def run(run_id: int) -> Any:
    return render_template("supervisor/run.html", run=run_detail(platform(), run_id))


@bp.post("/runs/<int:run_id>/assign")
@policy(roles=SUP)
def run_assign(run_id: int) -> Any:
    def run() -> None:
        scoring.ensure_scorecard(platform().uow())
        scoring.assign_run(platform().uow(), run_id, actor=user().id)

    return act(run, url_for("supervisor.run", run_id=run_id), "msg.assigned")


@bp.get("/config")
@policy(roles=SUP)
def config() -> Any:
    return render_template("supervisor/config.html", data=config_versions(platform()), draft="")


@bp.post("/config/scorecard")
@policy(roles=SUP)
def config_scorecard() -> Any:
    text = request.form.get("scorecard_yaml", "")
    try:
        card = scorecard_from_mapping(yaml_mapping(text, "scorecard"))
        scoring.ensure_scorecard(platform().uow(), card, actor=user().actor)
    except QaError as exc:
        flash(str(exc), "error")
        return render_template(
            "supervisor/config.html", data=config_versions(platform()), draft=text
        ), 400
    flash(wb_msg("msg.saved"), "ok")
    return redirect(url_for("supervisor.config"), code=303)


@bp.post("/config/rules")
@policy(roles=SUP)
def config_rules() -> Any:
    """A new rule-set version (flag thresholds, lexicon choices) becomes the active one."""
    text = request.form.get("rules_yaml", "")
    try:
        flag_service.import_rule_set_text(
            platform(), text, "rule set form", created_by=user().actor
        )
    except QaError as exc:
        flash(str(exc), "error")
        return render_template(
            "supervisor/config.html", data=config_versions(platform()), draft="", rules_draft=text
        ), 400
    flash(wb_msg("msg.saved"), "ok")
    return redirect(url_for("supervisor.config"), code=303)


@bp.post("/config/lines")
@policy(roles=SUP)
def config_line() -> Any:
    """Set (or, with ``remove``, drop) the scorecard of a business line (业务条线)."""
    back = url_for("supervisor.config")

    def run() -> None:
        btype = form_text("business_type")
        if request.form.get("remove"):
            scoring_lines.remove_line(platform().uow(), btype, user().id)
        else:
            scoring_lines.set_line(platform().uow(), btype, form_text("scorecard"), user().id)

    return act(run, back)
