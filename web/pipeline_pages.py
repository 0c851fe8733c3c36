"""Pipeline page (处理进度): counts per stage and status, failed calls with their reason,
dead letters, and the retry action (``qa_platform.services.pipeline_retry``, audited)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

from qa_platform.domain.calls import CallNotFound
from qa_platform.queries.pipeline_page import JOB_STATUSES, pipeline_overview
from qa_platform.services.access import check_object
from qa_platform.services.pipeline_retry import check_stage, retry_call
from web.policy import policy, user
from web.views import act, platform, whole_number

bp = Blueprint("pipeline", __name__)
SUP = ("supervisor", "admin")


@bp.get("/pipeline")
@policy(roles=SUP)
def page() -> Any:
    overview = pipeline_overview(platform(), user())
    return render_template("supervisor/pipeline.html", o=overview, job_statuses=JOB_STATUSES)


@bp.post("/pipeline/retry")
@policy(roles=SUP)
def retry() -> Any:
    """Reset a call's failed or dead-lettered jobs (optionally one ``stage``) and re-enqueue.

    A bad id or stage is a 400 naming it; a call outside the viewer's scope is a 404.
    """
    call_id = whole_number(request.form.get("call_id") or "", "call_id", minimum=1)
    stage = check_stage(request.form.get("stage"))
    if not check_object(platform(), user(), "call", call_id):
        raise CallNotFound(f"no call with id {call_id}")
    return act(
        lambda: retry_call(platform(), call_id, actor=user().actor, stage=stage),
        url_for("pipeline.page"),
        "pipe_retried",
    )
