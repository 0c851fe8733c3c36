"""Inspector workspace (质检工作台): my queue and the evaluation page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from qa_platform.domain.errors import QaError
from qa_platform.queries.evaluation_page import evaluation_page, reviewers, scorecard_of
from qa_platform.queries.work_queues import inspector_queue, next_in_queue
from qa_platform.services.access import record_disclosure
from scoring import services as scoring
from web.errors import status_of, user_message
from web.forms import parse_scores, seconds
from web.i18n import gettext
from web.policy import json_error, policy, user
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
    """The evaluation page; ``?fragment=1`` is its body alone (the page's script swaps it in)."""
    page = evaluation_page(platform(), user(), evaluation_id)
    record_disclosure(
        platform(), user(), "transcript.view", "evaluation", evaluation_id, {"via": "evaluation"}
    )
    fragment = request.args.get("fragment") == "1"
    template = "inspector/_evaluation_body.html" if fragment else "inspector/evaluation.html"
    return render_template(template, page=page, me=user(), reviewers=_reviewers(page))


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
    """Save the draft scores, or save and submit (``action=submit``), or submit and open the
    next call of the queue (``action=submit_next``, the page without its script)."""
    if request.form.get("action") == "submit_next":
        return _submit_next(evaluation_id)
    submit = request.form.get("action") == "submit"
    return act(
        lambda: _save_scores(evaluation_id, submit),
        _back(evaluation_id),
        "msg.submitted" if submit else "msg.saved",
    )


def _submit_next(evaluation_id: int) -> Any:
    try:
        _save_scores(evaluation_id, submit=True)
    except QaError as exc:
        flash(user_message(exc, status_of(exc)), "error")
        return redirect(_back(evaluation_id), code=303)
    following = _next(evaluation_id)
    if following["next_url"]:
        flash(following["message"], "ok")
    return redirect(following["next_url"] or following["home_url"], code=303)


@bp.post("/evaluations/<int:evaluation_id>/draft")
@policy(roles="inspector", obj=EVAL)
def draft(evaluation_id: int) -> Any:
    """The page script's autosave (草稿自动保存) and submit-then-next, answered in JSON: the
    same form fields and the same command as ``save``; a stale ``row_version`` is a 409."""
    submit = request.form.get("action") in ("submit", "submit_next")
    try:
        saved = _save_scores(evaluation_id, submit)
    except QaError as exc:
        return json_error(status_of(exc), user_message(exc, status_of(exc)))
    body = {
        "state": saved["state"],
        "state_label": gettext(f"state.{saved['state']}"),
        "row_version": saved["row_version"],
        "saved_at": _clock(saved["at"]),
    }
    return jsonify(body | (_next(evaluation_id) if submit else {}))


def _save_scores(evaluation_id: int, submit: bool) -> dict[str, Any]:
    """The save form's fields through the one save command (``scoring.save_scores``)."""
    p = platform()
    scores = parse_scores(scorecard_of(p, evaluation_id), request.form)
    return scoring.save_scores(
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


def _clock(at: str) -> str:
    """``HH:MM:SS`` of a saved moment in the centre's time zone (the page's 已保存 line)."""
    zone = ZoneInfo(platform().settings.centre_timezone)
    return datetime.fromisoformat(at).astimezone(zone).strftime("%H:%M:%S")


def _next(evaluation_id: int) -> dict[str, Any]:
    """Where to go after a submit: the next open call of my queue, or home with a message."""
    following = next_in_queue(platform(), user(), evaluation_id)
    if following is None:
        flash(gettext("speed.queue_done"), "ok")
        return {"next_url": None, "home_url": url_for("dashboard.inspector")}
    return {"next_url": _back(following), "message": gettext("speed.next_opened")}


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
