"""``qa flags``: re-run the abnormal-call rules, find flagged calls, manage rule sets."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from qa_platform.cli import emit, platform

_DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@click.group("flags")
def flags() -> None:
    """Abnormal-call flags (异常监控): rerun, list, rule sets."""


@flags.command("rerun")
@click.option(
    "--since", type=click.DateTime(_DATE_FORMATS), help="Only calls started at/after (UTC)."
)
@click.option("--rules", "rules_version", help="Rule-set version (default: the active one).")
@click.option("--json", "as_json", is_flag=True)
def rerun_command(since: datetime | None, rules_version: str | None, as_json: bool) -> None:
    """Recompute the flags of analysed calls from stored transcripts (no re-transcription)."""
    from qa_platform.services.flags import rerun

    result = rerun(platform(), since=_utc(since), rules_version=rules_version)
    d = result.to_dict()
    emit(
        d,
        as_json,
        f"{d['calls']} calls, {d['flags']} flags, rules {d['rule_set_version']}, {d['seconds']} s",
    )


@flags.command("list")
@click.option("--type", "flag_type", help="Flag type, e.g. complaint_risk.")
@click.option("--severity", type=click.Choice(["info", "warning", "critical"]))
@click.option("--since", type=click.DateTime(_DATE_FORMATS), help="Calls started at/after (UTC).")
@click.option("--limit", type=click.IntRange(1, 10_000_000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def list_command(
    flag_type: str | None, severity: str | None, since: datetime | None, limit: int, as_json: bool
) -> None:
    """Calls with flags, newest first, each with its matching flags."""
    from qa_platform.services.flags import list_flagged

    calls = list_flagged(
        platform(), flag_type=flag_type, since=_utc(since), severity=severity, limit=limit
    )
    emit(calls, as_json, "\n".join(_call_line(c) for c in calls) or "no flagged calls")


def _call_line(c: dict[str, Any]) -> str:
    kinds = ", ".join(sorted({f["type"] for f in c["flags"]}))
    return f"call {c['call_id']}  {c['started_at']}  {c['direction']}  {kinds}"


@flags.group("rules")
def rules() -> None:
    """Rule sets (规则集): the packaged default and imported, editable copies."""


@rules.command("list")
@click.option("--json", "as_json", is_flag=True)
def rules_list(as_json: bool) -> None:
    """Every rule set; the active one is marked."""
    from qa_platform.services.flags import list_rule_sets

    rows = list_rule_sets(platform())
    emit(
        rows,
        as_json,
        "\n".join(
            f"{'*' if r['active'] else ' '} {r['version']}  {r['source']}  {r['content_hash'][:12]}  {r['description']}"
            for r in rows
        ),
    )


@rules.command("show")
@click.argument("version")
@click.option("--json", "as_json", is_flag=True)
def rules_show(version: str, as_json: bool) -> None:
    """One rule set (YAML for people, data with --json)."""
    from qa_platform.services.flags import show_rule_set

    data = show_rule_set(platform(), version)
    emit({k: v for k, v in data.items() if k != "yaml"}, as_json, data["yaml"])


@rules.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--activate/--no-activate", default=True, show_default=True)
@click.option(
    "--by", "created_by", default="cli", show_default=True, help="Who imports it (audit)."
)
@click.option("--json", "as_json", is_flag=True)
def rules_import(file: Path, activate: bool, created_by: str, as_json: bool) -> None:
    """Validate a rule-set YAML file and store it as a new version."""
    from qa_platform.services.flags import import_rule_set

    row = import_rule_set(platform(), file, created_by=created_by, activate=activate)
    emit(row, as_json, f"imported {row['version']}{' (active)' if row['active'] else ''}")


@rules.command("activate")
@click.argument("version")
@click.option("--json", "as_json", is_flag=True)
def rules_activate(version: str, as_json: bool) -> None:
    """Make a stored rule set the active one."""
    from qa_platform.services.flags import activate_rule_set

    row = activate_rule_set(platform(), version)
    emit(row, as_json, f"active: {row['version']}")
