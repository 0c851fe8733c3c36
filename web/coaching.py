"""Coaching tasks (辅导) in the browser: the lead's and supervisors' list with the form that
records the coaching, and the agent's acknowledgement of the result.

Thin views: parse the form, call one function of ``scoring.services.coaching``, render.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from scoring.services import coaching as svc
from web.policy import policy, user
from web.views import act, form_int, form_text, platform

bp = Blueprint("coaching", __name__)
PEOPLE = ("supervisor", "admin", "agent")


@bp.get("/coaching")
@policy(roles=PEOPLE)
def index() -> Any:
    """Open and coached tasks first, then the closed ones; ``?state=`` narrows the list."""
    state = request.args.get("state") or None
    tasks = svc.list_tasks(platform(), user(), state if state in svc.STATES else None)
    live = [t for t in tasks if t.state in (svc.OPEN, svc.COACHED)]
    done = [t for t in tasks if t.state not in (svc.OPEN, svc.COACHED)]
    return render_template("coaching/index.html", live=live, done=done)


@bp.post("/coaching/<int:task_id>/acknowledge")
@policy(roles="agent", obj=("coaching", "task_id"))
def acknowledge(task_id: int) -> Any:
    """The agent confirms having read the result (确认)."""
    return act(
        lambda: svc.acknowledge(platform(), user(), task_id),
        url_for("coaching.index"),
        "coaching.msg.acknowledged",
    )


@bp.post("/coaching/<int:task_id>/coach")
@policy(roles=("supervisor", "admin"), obj=("coaching", "task_id"))
def coach(task_id: int) -> Any:
    """The lead records what was done (辅导记录)."""

    def run() -> None:
        note = form_text("note", required=False)
        svc.record_coaching(
            platform(), user(), task_id, note, expected_version=form_int("row_version")
        )

    return act(run, url_for("coaching.index"), "coaching.msg.coached")
