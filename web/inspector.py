"""Inspector workspace (质检工作台): my queue and the evaluation page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from qa_platform.queries.evaluation_page import evaluation_page, reviewers, scorecard_of
from qa_platform.queries.work_queues import inspector_queue
from qa_platform.services.access import record_disclosure
from scoring import services as scoring
from web.forms import parse_scores, seconds
from web.policy import policy, user
from web.views import act, form_int, form_text, platform

bp = Blueprint("inspector", __name__)
STAFF = ("inspector", "supervisor", "admin")
EVAL = ("evaluation", "evaluation_id")


@bp.get("/queue")
@policy(roles="inspector")
def queue() -> Any:
    return render_template("inspector/queue.html", queue=inspector_queue(platform(), user()))


@bp.get("/evaluations/<int:evaluation_id>")
@policy(roles=STAFF, obj=EVAL)
def evaluation(evaluation_id: int) -> Any:
    page = evaluation_page(platform(), user(), evaluation_id)
    record_disclosure(
        platform(), user(), "transcript.view", "evaluation", evaluation_id, {"via": "evaluation"}
    )
    return render_template(
        "inspector/evaluation.html", page=page, me=user(), reviewers=_reviewers(page)
    )


def _reviewers(page: dict[str, Any]) -> list[dict[str, Any]]:
    ev = page["evaluation"]
    if ev["state"] != "appealed":
        return []
    return reviewers(platform(), {page["inspector_id"], ev["agent_id"]})


def _back(evaluation_id: int) -> str:
    return url_for("inspector.evaluation", evaluation_id=evaluation_id)


@bp.post("/evaluations/<int:evaluation_id>/save")
@policy(roles="inspector", obj=EVAL)
def save(evaluation_id: int) -> Any:
    """Save the draft scores, or save and submit (``action=submit``)."""
    submit = request.form.get("action") == "submit"

    def run() -> None:
        p = platform()
        scores = parse_scores(scorecard_of(p, evaluation_id), request.form)
        scoring.save_scores(
            p.uow(),
            evaluation_id,
            user().id,
            scores,
            at=p.clock.now(),
            expected_version=form_int("row_version"),
            open_draft=True,
            submit=submit,
            override_reasons=_override_reasons(request.form),
        )

    return act(run, _back(evaluation_id), "msg.submitted" if submit else "msg.saved")


def _override_reasons(form: Any) -> dict[str, str]:
    """The reasons typed beside overridden machine suggestions (``reason_<code>`` fields)."""
    return {
        key.removeprefix("reason_"): str(value)
        for key, value in form.items()
        if key.startswith("reason_") and str(value).strip()
    }


@bp.post("/evaluations/<int:evaluation_id>/comment")
@policy(roles="inspector", obj=EVAL)
def comment(evaluation_id: int) -> Any:
    """Pin a comment to the current playback time."""

    def run() -> None:
        p, at_s = platform(), seconds(request.form.get("at_s"))
        expected = form_int("row_version")
        scoring.add_comment(
            p.uow(),
            evaluation_id,
            user().id,
            at_s,
            form_text("text"),
            request.form.get("item_code") or None,
            at=p.clock.now(),
            expected_version=expected,
            open_draft=True,
        )

    return act(run, _back(evaluation_id))


@bp.post("/evaluations/<int:evaluation_id>/decide")
@policy(roles=STAFF, obj=EVAL)
def decide(evaluation_id: int) -> Any:
    """The assigned re-reviewer decides the appeal (维持 / 改判)."""

    def run() -> None:
        p = platform()
        card = scorecard_of(p, evaluation_id)
        decision = form_text("decision")
        revised = parse_scores(card, request.form) if decision == "revised" else None
        scoring.decide_appeal(
            p.uow(),
            evaluation_id,
            user().id,
            decision,
            request.form.get("note", "").strip(),
            revised or None,
            at=p.clock.now(),
            expected_version=form_int("row_version"),
        )

    return act(run, _back(evaluation_id), "msg.decided")
