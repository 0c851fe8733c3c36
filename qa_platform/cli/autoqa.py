"""``qa autoqa``: re-run the machine pre-score of analysed calls, machine–human agreement."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
@click.option(
    "--scorecard",
    help="Scorecard name (default: the default scorecard), its latest active version.",
)
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
        f"rules {d['rule_set_version']}, {d['seconds']} s"
        + (f"; business lines: {', '.join(d['lines'])}" if d["lines"] else ""),
    )


@autoqa.command("agreement")
@click.option("--period", required=True, help="Month, YYYY-MM (centre time zone).")
@click.option(
    "--threshold",
    type=float,
    help="Kappa below which an item is weak (default QA_AUTOQA_KAPPA_THRESHOLD).",
)
@click.option("--json", "as_json", is_flag=True)
def agreement_command(period: str, threshold: float | None, as_json: bool) -> None:
    """Machine against the final human result on the random stream: percent agreement,
    Cohen's kappa with its confidence interval, confusion counts, per item and overall."""
    from scoring.services.autoqa_agreement import machine_human_agreement

    report = machine_human_agreement(platform(), period, threshold).to_dict()
    emit(report, as_json, _agreement_text(report))


def _agreement_line(a: dict[str, Any]) -> str:
    ci = a["kappa_ci"] or ["-", "-"]
    mark = "  ← kappa 偏低" if a["weak"] else ""
    return (
        f"{a['code']:<22} n={a['n']:<5} 一致率={a['percent_agreement']} "
        f"kappa={a['kappa']} [{ci[0]}, {ci[1]}]{mark}"
    )


def _agreement_text(report: dict[str, Any]) -> str:
    head = f"{report['period']} 随机抽检 {report['evaluations']} 通（机器结果 vs 人工终审）"
    lines = [_agreement_line(a) for a in report["items"]]
    return "\n".join([head, *lines, _agreement_line(report["overall"])])


@autoqa.command("summary")
@click.option("--period", required=True, help="Month, YYYY-MM (centre time zone).")
@click.option("--json", "as_json", is_flag=True)
def summary_command(period: str, as_json: bool) -> None:
    """机器结果 over 100 % of analysed calls: coverage, mean auto score, auto pass rate and
    red-line suspects by centre, team and agent (apart from the sample-based report)."""
    from scoring.services.autoqa_figures import machine_summary

    data = machine_summary(platform(), period).to_dict()
    emit(data, as_json, _summary_text(data))


def _figures_line(f: dict[str, Any]) -> str:
    return (
        f"{f['key']:<12} 通话={f['analysed']:<6} 覆盖率={f['coverage']} 平均分={f['mean_total']} "
        f"合格率={f['pass_rate']} 红线嫌疑={f['red_line_suspects']}"
    )


def _summary_text(data: dict[str, Any]) -> str:
    lines = [f"{data['period']} {data['label']}（全量，非抽样）", _figures_line(data["centre"])]
    lines += ["班组:"] + [_figures_line(t) for t in data["teams"]]
    lines += ["坐席:"] + [_figures_line(a) for a in data["agents"]]
    return "\n".join(lines)


COMMANDS = [autoqa]
