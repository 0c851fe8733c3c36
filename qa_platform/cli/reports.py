"""``qa report``: compute, show, publish and export quality reports (品质日报/周报/月报).

    qa report daily|weekly|monthly|quarterly|half_yearly [--date D] [--format json|csv|xlsx|pdf] [--out FILE]
                                   [--recompute] [--publish --by USER]
    qa report list [--kind K] [--json]
    qa report publish SNAPSHOT_ID --by USER [--json]
    qa report rollup --rebuild [--since D] [--json]

Without ``--date`` the last complete period (yesterday, last ISO week, last month) is used.
The newest stored version is shown; with ``--recompute`` (or when none exists) the report is
computed first, which adds a version only when its figures moved.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from qa_platform.cli import ID, emit, platform

FORMATS = ("json", "csv", "xlsx", "pdf")


@click.group("report")
def report() -> None:
    """Quality reports: daily, weekly, monthly, quarterly, half-yearly snapshots with exports."""


def _today(plat: Any) -> date:
    from scoring.reports import centre_tz

    return plat.clock.now().astimezone(centre_tz(plat.settings)).date()


def _resolve_day(plat: Any, kind: str, text: str | None) -> date:
    from scoring.reports import last_complete, parse_period

    if text:
        return parse_period(kind, text).start
    return last_complete(kind, _today(plat)).start


def _period_command(kind: str) -> click.Command:
    @click.command(kind, help=f"The {kind} quality report (compute if missing, show, export).")
    @click.option(
        "--date", "day", help="A date (2026-11-24), ISO week (2026-W48) or month (2026-11)."
    )
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
    @click.option(
        "--out", type=click.Path(path_type=Path), help="File to write (default stdout for json)."
    )
    @click.option(
        "--recompute", is_flag=True, help="Recompute now; a new version if figures moved."
    )
    @click.option("--publish", is_flag=True, help="Publish the shown version (needs --by).")
    @click.option("--by", "by", help="Username of the supervisor who publishes.")
    def command(
        day: str | None, fmt: str, out: Path | None, recompute: bool, publish: bool, by: str | None
    ) -> None:
        from scoring.reports import compute_report, latest_snapshot, publish_report

        if publish and not by:
            raise click.UsageError("--publish needs --by USERNAME (a supervisor)")
        plat = platform()
        target = _resolve_day(plat, kind, day)
        snap = None if recompute else latest_snapshot(plat.uow(), kind, target)
        if snap is None:
            snap = compute_report(plat.uow(), kind, target, now=plat.clock.now(), actor=by or "cli")
        if publish:
            snap = publish_report(plat.uow(), snap["id"], str(by), now=plat.clock.now())
        _write(snap, fmt, out)

    return command


def _write(snap: dict[str, Any], fmt: str, out: Path | None) -> None:
    import json

    from scoring.reports import export_report

    if fmt == "json":
        text = json.dumps(snap, ensure_ascii=False, indent=2, default=str)
        if out is None:
            click.echo(text)
            return
        data = text.encode()
    else:
        data = export_report(snap["payload"], fmt, snap)
    path = out or Path(f"report-{snap['kind']}-{snap['period_label']}-v{snap['version']}.{fmt}")
    path.write_bytes(data)
    click.echo(
        f"wrote {path} ({len(data)} bytes, {snap['kind']} {snap['period_label']} "
        f"v{snap['version']} {snap['status']})"
    )


KINDS = ("daily", "weekly", "monthly", "quarterly", "half_yearly")
for _kind in KINDS:
    report.add_command(_period_command(_kind))


@report.command("list")
@click.option("--kind", type=click.Choice(KINDS))
@click.option("--published", is_flag=True, help="Only published versions.")
@click.option("--json", "as_json", is_flag=True)
def list_command(kind: str | None, published: bool, as_json: bool) -> None:
    """Stored snapshots, newest period first."""
    from scoring.reports import list_snapshots

    rows = list_snapshots(platform().uow(), kind, published)
    lines = [
        f"{r['id']:>5}  {r['kind']:<8} {r['period_label']:<11} v{r['version']}  {r['status']:<11} "
        f"{'published' if r['published'] else ''}"
        for r in rows
    ]
    emit(rows, as_json, "\n".join(lines) or "no reports yet")


@report.command("publish")
@click.argument("snapshot_id", type=ID)
@click.option("--by", "by", required=True, help="Username of the supervisor who publishes.")
@click.option("--json", "as_json", is_flag=True)
def publish_command(snapshot_id: int, by: str, as_json: bool) -> None:
    """Publish one snapshot version (supervisors)."""
    from scoring.reports import publish_report

    plat = platform()
    snap = publish_report(plat.uow(), snapshot_id, by, now=plat.clock.now())
    snap.pop("payload", None)
    emit(snap, as_json, f"published {snap['kind']} {snap['period_label']} v{snap['version']}")


@report.command("rollup")
@click.option("--rebuild", is_flag=True, required=True, help="Recount the daily roll-ups.")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), help="First local day to recount (2026-01-01)."
)
@click.option("--json", "as_json", is_flag=True)
def rollup_command(rebuild: bool, since: Any, as_json: bool) -> None:
    """Rebuild or repair the daily report roll-ups (日汇总) from the raw calls and flags."""
    from scoring.reports.rollup import rebuild_rollups

    plat = platform()
    day = since.date() if since is not None else None
    result = rebuild_rollups(plat.uow(), day, now=plat.clock.now(), actor="cli").to_dict()
    emit(
        result,
        as_json,
        f"roll-up rebuilt: {result['days']} days from {result['first_day']}, "
        f"{result['call_rows']} call rows, {result['flag_rows']} flag rows; "
        f"complete from {result['complete_from']}",
    )
