"""The API's lists (``GET /api/v1/calls``, ``/evaluations``, ``/appeals``, ``/reports``) and
report downloads, scoped like the pages, paginated by an opaque cursor.

Each list reads ``limit + 1`` rows through the same query its page uses (``search_calls`` for
calls, the work-queue reads for evaluations and appeals, ``list_snapshots`` for reports) to
know whether a next page exists: ``next_cursor`` is null on the last page.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, abort, jsonify

from qa_platform.domain.calls import CallStatus
from qa_platform.queries.calls import search_calls
from qa_platform.queries.work_queues import ALL_STATES, appeal_list, evaluation_list
from qa_platform.services.access import record_disclosure
from scoring import reports as svc
from web import api_params as param
from web.api import bp
from web.policy import ALL_ROLES, policy, user
from web.views import FieldError, platform

CALL_PARAMS = (
    "from",
    "to",
    "agent",
    "team",
    "flag",
    "status",
    "score_min",
    "score_max",
    "text",
    "limit",
    "cursor",
)
EVALUATION_PARAMS = ("status", "from", "to", "agent", "limit", "cursor")
PAGE_PARAMS = ("limit", "cursor")
REPORT_PARAMS = ("kind", "limit", "cursor")
SUP = ("admin", "supervisor")
_FLAG = re.compile(r"[a-z0-9_]{1,64}")


def _tz() -> Any:
    return svc.centre_tz(platform().settings)


def _call_query() -> dict[str, Any]:
    param.reject_unknown(CALL_PARAMS)
    start, end = param.period(_tz())
    flag = param.text("flag", 64)
    if flag is not None and not _FLAG.fullmatch(flag):
        raise FieldError(f"parameter 'flag'={flag[:40]!r} is not a flag type (like long_silence)")
    low, high = param.number_range("score_min", "score_max", 0.0, 100.0)
    return {
        "date_from": start,
        "date_to": end,
        "agent": param.text("agent", 64),
        "team": param.text("team"),
        "flag_type": flag,
        "status": param.choice("status", [str(s) for s in CallStatus]),
        "score_min": low,
        "score_max": high,
        "text": param.text("text"),
    }


@bp.get("/calls")
@policy(roles=ALL_ROLES)
def list_calls() -> Any:
    """Calls the caller may see (the /calls page's search), newest first."""
    q, size = _call_query(), param.limit()
    after = param.time_id_cursor("calls")
    rows = search_calls(platform(), user(), q, limit=size + 1, after=after)
    shown, cursor = param.page(
        rows, size, lambda r: ("calls", r["started_at"].isoformat(), r["id"])
    )
    return jsonify({"calls": [param.plain(r) for r in shown], "next_cursor": cursor})


@bp.get("/evaluations")
@policy(roles=ALL_ROLES)
def list_evaluations() -> Any:
    """Evaluations the caller may see, newest first."""
    param.reject_unknown(EVALUATION_PARAMS)
    start, end = param.period(_tz())
    q = {
        "states": param.choices("status", ALL_STATES),
        "date_from": start,
        "date_to": end,
        "agent": param.text("agent", 64),
    }
    size, before = param.limit(), param.id_cursor("evaluations")
    rows = evaluation_list(platform(), user(), q, limit=size + 1, before_id=before)
    shown, cursor = param.page(rows, size, lambda r: ("evaluations", r["id"]))
    return jsonify({"evaluations": [param.plain(r) for r in shown], "next_cursor": cursor})


@bp.get("/appeals")
@policy(roles=ALL_ROLES)
def appeals() -> Any:
    """Appeals on the evaluations the caller may see, newest first."""
    param.reject_unknown(PAGE_PARAMS)
    size, before = param.limit(), param.id_cursor("appeals")
    rows = appeal_list(platform(), user(), limit=size + 1, before_id=before)
    shown, cursor = param.page(rows, size, lambda r: ("appeals", r["id"]))
    return jsonify({"appeals": shown, "next_cursor": cursor})


@bp.get("/reports")
@policy(roles=ALL_ROLES)
def list_reports() -> Any:
    """Stored report snapshots like the reports page: every version for supervisors and
    admins, published ones for inspectors and agents (without who made them, for agents)."""
    param.reject_unknown(REPORT_PARAMS)
    kind = param.choice("kind", [str(k) for k in svc.KIND_NAMES])
    size, before = param.limit(), param.id_cursor("reports")
    rows = svc.list_snapshots(
        platform().uow(),
        kind,
        published_only=user().role not in SUP,
        limit=size + 1,
        by_id=True,
        before_id=before,
    )
    shown, cursor = param.page(rows, size, lambda r: ("reports", r["id"]))
    listed = []
    for row in shown:
        seen = svc.visible_report(user(), row)
        if seen is not None:
            listed.append({k: v for k, v in seen.items() if k != "payload"})
    return jsonify({"reports": listed, "next_cursor": cursor})


@bp.get("/reports/<int:snapshot_id>/download")
@policy(roles=ALL_ROLES)
def report_download(snapshot_id: int) -> Any:
    """One report as CSV, XLSX or PDF (the page's exports; agents get their reduced view)."""
    param.reject_unknown(("format",))
    fmt = param.choice("format", svc.EXPORTS) or "csv"
    try:
        snap = svc.visible_report(user(), svc.get_snapshot(platform().uow(), snapshot_id))
    except svc.ReportNotFound:
        abort(404)
    if snap is None:
        abort(404)
    _fn, mimetype, ext = svc.EXPORTS[fmt]
    body = svc.export_report(snap["payload"], fmt, snap)
    record_disclosure(
        platform(), user(), "report.export", "report", snapshot_id, {"format": fmt, "via": "api"}
    )
    name = f"report-{snap['kind']}-{snap['period_label']}-v{snap['version']}.{ext}"
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
