"""Agent portal (客服代表): my published results, their moments, appeals."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from qa_platform.queries.evaluation_page import evaluation_page
from qa_platform.queries.work_queues import agent_results
from qa_platform.services.access import record_disclosure
from scoring import services as scoring
from web.policy import policy, user
from web.views import act, form_int, form_text, platform

bp = Blueprint("agent", __name__)
EVAL = ("evaluation", "evaluation_id")


@bp.get("/my/results")
@policy(roles="agent")
def results() -> Any:
    return render_template("agent/results.html", results=agent_results(platform(), user()))


@bp.get("/my/results/<int:evaluation_id>")
@policy(roles="agent", obj=EVAL)
def result(evaluation_id: int) -> Any:
    page = evaluation_page(platform(), user(), evaluation_id)
    record_disclosure(
        platform(), user(), "transcript.view", "evaluation", evaluation_id, {"via": "my results"}
    )
    return render_template("agent/result.html", page=page)


@bp.post("/my/results/<int:evaluation_id>/appeal")
@policy(roles="agent", obj=EVAL)
def appeal(evaluation_id: int) -> Any:
    """File an appeal (申诉) on the ticked items."""

    def run() -> None:
        p, expected = platform(), form_int("row_version")
        scoring.file_appeal(
            p.uow(),
            evaluation_id,
            user().id,
            form_text("reason"),
            request.form.getlist("items"),
            at=p.clock.now(),
            expected_version=expected,
        )

    return act(run, url_for("agent.result", evaluation_id=evaluation_id), "msg.appealed")
