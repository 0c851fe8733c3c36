"""Home pages: the supervisor's dashboard (主管总览) and the inspector's home (质检员首页)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from qa_platform.queries.dashboard import supervisor_dashboard
from qa_platform.queries.inspector_home import inspector_home
from qa_platform.queries.work_queues import evaluations_of
from web.policy import policy, user
from web.views import FieldError, platform

bp = Blueprint("dashboard", __name__)
SUP = ("supervisor", "admin")
MAX_FILTER = 64  # team names and agent codes are short columns


@bp.get("/dashboard")
@policy(roles=SUP)
def supervisor() -> Any:
    data = supervisor_dashboard(platform(), user())
    return render_template("supervisor/dashboard.html", d=data, chart=data.trend.to_json())


@bp.get("/dashboard/evaluations")
@policy(roles=SUP)
def evaluations() -> Any:
    """Evaluations of one team or agent in the viewer's scope (drill-down from the ranking)."""
    team, agent = _filter("team"), _filter("agent")
    rows = evaluations_of(platform(), user(), team=team, agent=agent)
    return render_template("supervisor/evaluations.html", rows=rows, team=team, agent=agent)


def _filter(name: str) -> str | None:
    value = (request.args.get(name) or "").strip()
    if len(value) > MAX_FILTER:
        raise FieldError.of("form.out_of_range", field=repr(name), raw=repr(value[:40]))
    return value or None


@bp.get("/home")
@policy(roles="inspector")
def inspector() -> Any:
    return render_template("inspector/home.html", h=inspector_home(platform(), user()))
