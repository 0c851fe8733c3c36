"""Quality reports in the browser (品质报表): list, report page with charts, exports, publish.

Who sees what is decided by ``scoring.reports.visible_report``: supervisors and admins every
version; inspectors published versions; agents published versions reduced to the centre and
their own line. Anything a user may not see answers 404, like an unknown id.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, render_template, request, url_for

from qa_platform.services.access import record_disclosure
from scoring import reports as svc
from scoring.reports.periods import EARLIEST, LATEST
from web.policy import ALL_ROLES, policy, user
from web.views import FieldError, act, form_text, platform

bp = Blueprint("reports", __name__)
SUP = ("supervisor", "admin")


def _visible(snapshot_id: int) -> dict[str, Any]:
    try:
        snap = svc.get_snapshot(platform().uow(), snapshot_id)
    except svc.ReportNotFound:
        abort(404)
    shown = svc.visible_report(user(), snap)
    if shown is None:
        abort(404)
    return shown


def _today() -> date:
    """Today in the centre's time zone (the default date of the compute form)."""
    plat = platform()
    return plat.clock.now().astimezone(svc.centre_tz(plat.settings)).date()


@bp.get("/")
@policy(roles=ALL_ROLES)
def index() -> Any:
    """Stored reports: every version for supervisors, published ones for everyone else."""
    return _index_page()


def _index_page() -> str:
    published_only = user().role not in SUP
    rows = svc.list_snapshots(platform().uow(), request.args.get("kind") or None, published_only)
    return render_template(
        "reports/index.html",
        rows=rows,
        can_compute=not published_only,
        kind_names={str(k): v for k, v in svc.KIND_NAMES.items()},
        today=_today().isoformat(),
    )


@bp.post("/compute")
@policy(roles=SUP)
def compute() -> Any:
    """Compute (or recompute) the report of a period now; a bad kind or date is a 400 that
    names the field, on the page re-rendered."""
    kind, day = form_text("kind"), form_text("date")
    try:
        period = _period_field(kind, day)
    except FieldError as exc:
        from web.errors import user_message

        flash(user_message(exc, 400), "error")
        return _index_page(), 400

    def run() -> None:
        svc.compute_report(
            platform().uow(), kind, period.start, now=platform().clock.now(), actor=user().username
        )

    return act(run, url_for("reports.index"), "msg.saved")


def _period_field(kind: str, day: str) -> svc.Period:
    """The period (报表周期) of the form's ``kind`` and ``date``; FieldError naming the field."""
    try:
        svc.parse_kind(kind)
    except svc.PeriodError:
        raise FieldError.of("report.bad_kind", raw=kind[:40]) from None
    try:
        return svc.parse_period(kind, day)
    except svc.PeriodError:
        raise FieldError.of(
            "report.bad_date", raw=day[:40], first=EARLIEST.year, last=LATEST.year - 1
        ) from None


@bp.get("/<int:snapshot_id>")
@policy(roles=ALL_ROLES)
def show(snapshot_id: int) -> Any:
    snap = _visible(snapshot_id)
    return render_template(
        "reports/report.html",
        snap=snap,
        p=snap["payload"],
        label=svc.label,
        fmt=svc.fmt_value,
        flag_title=svc.flag_title,
        can_publish=user().role in SUP,
        charts=list(svc.CHARTS),
        columns=svc.GROUP_COLUMNS,
        machine_tables=svc.machine_tables(snap["payload"]),
        fmt_machine=svc.fmt_machine,
    )


@bp.post("/<int:snapshot_id>/publish")
@policy(roles=SUP)
def publish(snapshot_id: int) -> Any:
    back = url_for("reports.show", snapshot_id=snapshot_id)
    plat = platform()
    return act(
        lambda: svc.publish_report(plat.uow(), snapshot_id, user().id, now=plat.clock.now()),
        back,
        "msg.saved",
    )


@bp.get("/<int:snapshot_id>/chart/<name>.png")
@policy(roles=ALL_ROLES)
def chart(snapshot_id: int, name: str) -> Any:
    if name not in svc.CHARTS:
        abort(404)
    data = svc.chart_bytes(_visible(snapshot_id)["payload"], name, "png")
    return Response(data, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


@bp.get("/<int:snapshot_id>/export.<fmt>")
@policy(roles=ALL_ROLES)
def export(snapshot_id: int, fmt: str) -> Any:
    if fmt not in svc.EXPORTS:
        abort(404)
    snap = _visible(snapshot_id)
    _fn, mimetype, ext = svc.EXPORTS[fmt]
    name = f"report-{snap['kind']}-{snap['period_label']}-v{snap['version']}.{ext}"
    body = svc.export_report(snap["payload"], fmt, snap)
    record_disclosure(platform(), user(), "report.export", "report", snapshot_id, {"format": fmt})
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
