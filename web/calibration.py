"""Calibration (校准) pages: supervisors open and read sessions, inspectors score their calls."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from qa_platform.domain.errors import QaError
from qa_platform.queries.calibration import (
    autoqa_agreement_table,
    calibration_detail,
    calibration_list,
)
from qa_platform.queries.calibration_scoring import (
    calibration_call_page,
    calibration_scorecard,
    my_calibrations,
    next_call,
)
from qa_platform.queries.evaluation_page import inspectors, reviewers
from scoring import services as scoring
from web.forms import parse_scores
from web.i18n import gettext
from web.policy import policy, user
from web.views import act, form_text, platform, whole_number

bp = Blueprint("calibration", __name__)
SUP = ("supervisor", "admin")
SESSION = ("calibration", "session_id")
SCORERS = ("inspector", "supervisor")  # participants, and a supervisor as the reference


@bp.get("/calibration")
@policy(roles=SUP)
def index() -> Any:
    """Sessions, the form to open one, and auto-QA's machine–human agreement (issue 13)."""
    p, status = platform(), 200
    try:
        agreement, agreement_error = autoqa_agreement_table(p, request.args.get("period")), ""
    except QaError as exc:
        from web.errors import status_of, user_message

        status = status_of(exc)
        agreement, agreement_error = None, user_message(exc, status)
    page = render_template(
        "supervisor/calibration.html",
        sessions=calibration_list(p, user()),
        inspectors=inspectors(p),
        references=[r for r in reviewers(p, set()) if r["role"] in SCORERS],
        agreement=agreement,
        agreement_error=agreement_error,
    )
    return page, status


@bp.post("/calibration")
@policy(roles=SUP)
def create() -> Any:
    def run() -> None:
        raw_calls = form_text("call_ids").replace(",", " ").split()
        calls = [whole_number(x, "call_ids", 1) for x in raw_calls if x.isdigit()]
        raw_inspectors = request.form.getlist("inspector_ids")
        inspectors = [whole_number(x, "inspector_ids", 1) for x in raw_inspectors if x.isdigit()]
        raw_reference = form_text("reference_by", required=False)
        reference = whole_number(raw_reference, "reference_by", 1) if raw_reference else None
        scoring.ensure_scorecard(platform().uow())
        scoring.create_calibration(
            platform().uow(), form_text("name"), calls, inspectors, user().id, reference
        )

    return act(run, url_for("calibration.index"))


@bp.get("/calibration/<int:session_id>")
@policy(roles=SUP, obj=SESSION)
def show(session_id: int) -> Any:
    return render_template(
        "supervisor/calibration_show.html", data=calibration_detail(platform(), session_id)
    )


@bp.post("/calibration/<int:session_id>/close")
@policy(roles=SUP, obj=SESSION)
def close(session_id: int) -> Any:
    """End the session (结束校准): inspectors can no longer change their scores."""

    def run() -> None:
        scoring.close_calibration(platform().uow(), session_id, user().id)

    return act(run, url_for("calibration.show", session_id=session_id), "calibration.closed_msg")


@bp.get("/my/calibration")
@policy(roles="inspector")
def mine() -> Any:
    """The sessions the inspector takes part in, each to do or done (我的校准)."""
    return render_template(
        "inspector/calibration.html", sessions=my_calibrations(platform(), user())
    )


@bp.get("/calibration/<int:session_id>/calls/<int:call_id>")
@policy(roles=SCORERS, obj=SESSION)
def score(session_id: int, call_id: int) -> Any:
    page = calibration_call_page(platform(), user(), session_id, call_id)
    return render_template("inspector/calibration_score.html", page=page)


@bp.post("/calibration/<int:session_id>/calls/<int:call_id>")
@policy(roles=SCORERS, obj=SESSION)
def score_save(session_id: int, call_id: int) -> Any:
    """Save the inspector's scores of one call; a refusal re-renders the form with its
    message and status (400 bad input, 404 call outside the session, 409 session closed)."""
    from web.errors import status_of, user_message

    p = platform()
    try:
        scores = parse_scores(calibration_scorecard(p, user(), session_id, call_id), request.form)
        scoring.record_calibration_scores(
            p.uow(), session_id, user().id, call_id, scores, complete=True
        )
    except QaError as exc:
        status = status_of(exc)
        if status == 404:
            raise
        flash(user_message(exc, status), "error")
        page = calibration_call_page(p, user(), session_id, call_id)
        page["values"] = _entered(page["card"], request.form)  # the form keeps what was typed
        return render_template("inspector/calibration_score.html", page=page), status
    flash(gettext("calibration.saved"), "ok")
    return redirect(_after_save(session_id, call_id), code=303)


def _entered(card: dict[str, Any], form: Any) -> dict[str, dict[str, Any]]:
    """The submitted fields as the form shows them back (``{code: {score, na, violated}}``)."""
    ticked = ("1", "on", "true")
    return {
        item["code"]: {
            "score": form.get(f"score_{item['code']}", "")[:32],
            "na": form.get(f"na_{item['code']}") in ticked,
            "violated": form.get(f"violated_{item['code']}") in ticked,
        }
        for section in card["sections"]
        for item in section["items"]
    }


def _after_save(session_id: int, call_id: int) -> str:
    """The next call of the session to score, or the session list after the last."""
    nxt = next_call(platform(), session_id, call_id)
    if nxt is None and user().role == "supervisor":  # the reference: back to the figures
        return url_for("calibration.show", session_id=session_id)
    if nxt is None:
        return url_for("calibration.mine")
    return url_for("calibration.score", session_id=session_id, call_id=nxt)
