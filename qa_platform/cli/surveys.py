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
