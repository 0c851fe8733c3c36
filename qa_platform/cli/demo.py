"""`qa demo`: the main job on the embedded default (people, calls, pipeline, sampling, history)."""

from __future__ import annotations

from pathlib import Path

import click

from qa_platform.cli import emit, platform
from qa_platform.cli.core import ingest_line


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="Serve the web UI on 127.0.0.1 at the end.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Ingest the calls this manifest lists (make demo: the Mandarin demo calls) "
    "instead of the English sample.",
)
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="Add eight weeks of generated history (metadata only) and its report snapshots.",
)
@click.option(
    "--seed",
    type=click.IntRange(0, 2**31 - 1),
    default=20261125,
    show_default=True,
    help="Seed of the generated history (the same seed writes the same history).",
)
def demo(
    as_json: bool, serve: bool, port: int, manifest: Path | None, history: bool, seed: int
) -> None:
    """The main job: set up, ingest and analyse real demo calls, sample, then serve the UI."""
    from qa_platform.queries.calls import show_call
    from qa_platform.services.demo import run_demo

    plat = platform()
    report = run_demo(plat, manifest, history_seed=seed if history else None)
    # the demo's own recordings (the generated history is summed up on one line)
    real = sorted({r.call_id for r in report.ingested if r.call_id is not None})
    rows = [show_call(plat, call_id) for call_id in real]
    emit(
        {
            "ingested": [r.to_dict() for r in report.ingested],
            "calls": rows,
            "samples": report.samples,
            "users": report.credentials,
            "history": report.history.to_dict() if report.history else None,
        },
        as_json,
        _demo_text(report, rows),
    )
    if serve and not as_json:
        from qa_platform.cli.web import web_command

        click.get_current_context().invoke(web_command, host="127.0.0.1", port=port, threads=8)


def _demo_text(report, rows) -> str:
    lines = [ingest_line(r) for r in report.ingested] + [""]
    for r in rows:
        flags = ", ".join(sorted({f["type"] for f in r.get("flags", [])})) or "-"
        lines.append(
            f"call {r['id']:>3}  {r['status']:<9} {r['duration_s']:>5.1f}s "
            f"{r['channels']}ch {r['sample_rate']}Hz  {r['agent']} {r['team']} "
            f"{r['business_type']}  segments={len(r.get('segments', []))}  flags: {flags}"
        )
    for run in report.samples:
        lines.append(
            f"sample run {run['run_id']} ({run['stream']}): frame {run['frame_size']}, "
            f"seed {run['seed']}, calls {run['call_ids']}"
        )
    if report.history is not None:
        lines.append(_history_line(report.history))
    lines.append("\ndemo users (also in $QA_HOME/demo/credentials.json, mode 0600):")
    lines += [f"  {user:<16} {password}" for user, password in report.credentials.items()]
    return "\n".join(lines)


def _history_line(h) -> str:
    if h.skipped:
        return f"generated history: kept (already there, {h.first_day}..{h.last_day})"
    snaps = ", ".join(f"{k} {v}" for k, v in h.snapshots.items())
    return (
        f"generated history (seed {h.seed}, {h.first_day}..{h.last_day}): {h.calls} calls, "
        f"{h.flags} flags, {h.evaluations} evaluations ({h.red_lines} red lines), "
        f"{h.appeals} appeals; snapshots: {snaps}; generation time {h.seconds:.1f} s"
    )


COMMANDS = [demo]
