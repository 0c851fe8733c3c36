"""``qa surveys import``: satisfaction survey answers (满意度回访) that arrive after the call."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qa_platform.cli import _lang, emit, platform


@click.group()
def surveys() -> None:
    """Satisfaction surveys: import the answers of a survey system (CSV)."""


@surveys.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def surveys_import(csv_file: Path, as_json: bool) -> None:
    """Import a CSV with call_external_id, survey_id, rating (1–5), answered_at (ISO with zone)
    and optionally channel. Bad rows are listed with their line; exit 1 if any was rejected."""
    from qa_platform.services.surveys import import_surveys, read_survey_csv

    lang = _lang()
    rows = read_survey_csv(csv_file.read_bytes())
    done = import_surveys(platform(), rows, actor="cli")
    counts = done.counts
    lines = [r.error(lang) for r in done.rows if r.status == "rejected"]
    summary = (
        f"导入 {counts['imported']} 条，重复 {counts['duplicate']} 条，拒绝 {counts['rejected']} 条"
        if lang == "zh"
        else f"imported {counts['imported']}, duplicate {counts['duplicate']}, "
        f"rejected {counts['rejected']}"
    )
    emit(done.to_dict(lang), as_json, "\n".join([*lines, summary]))
    if counts["rejected"]:
        sys.exit(1)


@click.group("business-lines")
def business_lines() -> None:
    """Business lines (业务条线): which scorecard scores each business type's calls."""


@business_lines.command("list")
@click.option("--json", "as_json", is_flag=True)
def lines_list(as_json: bool) -> None:
    """Every line: business type → scorecard (other types use the default scorecard)."""
    from scoring.services.business_lines import list_lines

    rows = list_lines(platform().uow())
    text = "\n".join(f"{r['business_type']}\t{r['scorecard']}" for r in rows)
    emit(rows, as_json, text or "no business lines: every call uses the default scorecard")


@business_lines.command("set")
@click.argument("business_type")
@click.argument("scorecard")
@click.option("--by", "actor", required=True, help="Supervisor or admin username.")
@click.option("--json", "as_json", is_flag=True)
def lines_set(business_type: str, scorecard: str, actor: str, as_json: bool) -> None:
    """Score BUSINESS_TYPE's calls against the active scorecard SCORECARD (by name)."""
    from scoring.services.business_lines import set_line

    row = set_line(platform().uow(), business_type, scorecard, actor)
    emit(row, as_json, f"{row['business_type']} → {row['scorecard']}")


@business_lines.command("remove")
@click.argument("business_type")
@click.option("--by", "actor", required=True, help="Supervisor or admin username.")
@click.option("--json", "as_json", is_flag=True)
def lines_remove(business_type: str, actor: str, as_json: bool) -> None:
    """Remove a line: its calls go back to the default scorecard."""
    from scoring.services.business_lines import remove_line

    removed = remove_line(platform().uow(), business_type, actor)
    emit({"removed": removed}, as_json, "removed" if removed else "no such business line")
    if not removed:
        sys.exit(1)
