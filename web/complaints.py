"""Complaint desk (投诉工单): supervisors' list of cases and alerts, a case page, its actions.

Thin views: parse the form, call one command of ``qa_platform.services.complaints``, render.
Cases are centre-wide (every supervisor and admin sees the complaint desk); they name calls,
whose own pages keep their team checks.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from qa_platform.services import complaints as svc
from web.policy import policy, user
from web.views import FieldError, act, form_int, form_text, platform

bp = Blueprint("complaints", __name__)
SUP = ("supervisor", "admin")
ACTIONS = ("confirm", "dismiss", "close")


@bp.get("/complaints")
@policy(roles=SUP)
def index() -> Any:
    """Live cases first (alerts: proposed and open), the overdue ones marked, then the rest."""
    p = platform()
    cases = svc.list_cases(p)
    live = [c for c in cases if c.state in ("proposed", "open")]
    done = [c for c in cases if c.state not in ("proposed", "open")]
    return render_template("complaints/index.html", live=live, done=done)


@bp.get("/complaints/<int:case_id>")
@policy(roles=SUP)
def show(case_id: int) -> Any:
    return render_template("complaints/show.html", case=svc.show_case(platform(), case_id))


@bp.post("/complaints/<int:case_id>/action")
@policy(roles=SUP)
def action(case_id: int) -> Any:
    """Confirm (立案), dismiss (驳回, with a reason) or close (结案, with the outcome)."""
    name = request.form.get("action", "")

    def run() -> None:
        if name not in ACTIONS:
            raise FieldError.of("form.required", field="'action'")
        p, expected, actor = platform(), form_int("row_version"), f"user:{user().id}"
        text = form_text("text", required=False)
        if name == "confirm":
            kind = request.form.get("kind") or None
            svc.confirm_case(p, case_id, actor, kind=kind, expected_version=expected)
        elif name == "dismiss":
            svc.dismiss_case(p, case_id, text, actor, expected_version=expected)
        else:
            svc.close_case(p, case_id, text, actor, expected_version=expected)

    return act(run, url_for("complaints.show", case_id=case_id), f"complaint.msg.{name or 'saved'}")


@bp.post("/calls/<int:call_id>/complaints")
@policy(roles=SUP, obj=("call", "call_id"))
def open_from_call(call_id: int) -> Any:
    """Open a case (受理) on the call shown; the call moves to 5-year retention."""

    def run() -> None:
        kind = request.form.get("kind") or "complaint"
        summary = form_text("summary", required=False)
        svc.open_case(platform(), [call_id], kind, summary, f"user:{user().id}")

    return act(run, url_for("calls.show", call_id=call_id), "complaint.msg.open")
