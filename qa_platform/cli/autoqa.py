"""``qa autoqa``: re-run the machine pre-score of analysed calls, machine–human agreement."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from qa_platform.cli import emit, platform

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@click.group("autoqa")
def autoqa() -> None:
    """Auto-QA (机器预评分): rerun, agreement with people."""


@autoqa.command("rerun")
@click.option(
    "--since", type=click.DateTime(_DATE_FORMATS), help="Only calls started at/after (UTC)."
)
@click.option("--scorecard", help="Scorecard name (default: the default scorecard).")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Also calls already judged under the current versions.",
)
@click.option("--json", "as_json", is_flag=True)
def rerun_command(
    since: datetime | None, scorecard: str | None, everything: bool, as_json: bool
) -> None:
    """Judge the analysed calls with no auto evaluation under the current scorecard and
    rule-set versions (after a rule-set or scorecard change)."""
    from scoring.services.autoqa import rerun

    result = rerun(platform(), since=_utc(since), scorecard=scorecard, everything=everything)
    d = result.to_dict()
    emit(
        d,
        as_json,
        f"{d['calls']} calls judged, scorecard {d['scorecard']} v{d['scorecard_version']}, "
        f"rules {d['rule_set_version']}, {d['seconds']} s",
    )


COMMANDS = [autoqa]
