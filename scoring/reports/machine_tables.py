"""The machine section (机器结果) of a report as tables: one shape for the web page, CSV, XLSX
and PDF, each table titled 机器结果 so nobody reads it as a sample-based figure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.reports.machine import MACHINE_LABEL
from scoring.reports.machine_section import MISSING_NOTE

FIGURE_COLUMNS = (
    "name",
    "analysed",
    "judged",
    "coverage",
    "mean_total",
    "pass_rate",
    "red_line_suspects",
)
AGREEMENT_COLUMNS = (
    "item",
    "n",
    "percent_agreement",
    "kappa",
    "kappa_ci_low",
    "kappa_ci_high",
    "both_pass",
    "machine_pass_human_fail",
    "machine_fail_human_pass",
    "both_fail",
    "weak",
)
TREND_COLUMNS = (
    "period",
    "n",
    "percent_agreement",
    "kappa",
    "kappa_ci_low",
    "kappa_ci_high",
    "weak_items",
)
MACHINE_LABELS = {
    "name": "名称",
    "analysed": "已分析通话量",
    "judged": "机器已评通话量",
    "coverage": "机器覆盖率",
    "mean_total": "机器平均分",
    "pass_rate": "机器合格率",
    "red_line_suspects": "疑似红线通话",
    "item": "评分项",
    "n": "配对决定数",
    "percent_agreement": "一致率",
    "kappa": "Kappa",
    "kappa_ci_low": "Kappa置信下限",
    "kappa_ci_high": "Kappa置信上限",
    "both_pass": "双方合格",
    "machine_pass_human_fail": "机器合格/人工不合格",
    "machine_fail_human_pass": "机器不合格/人工合格",
    "both_fail": "双方不合格",
    "weak": "低于Kappa阈值",
    "period": "月份",
    "weak_items": "低于阈值项数",
    "note": "说明",
}
MACHINE_RATES = frozenset({"coverage", "pass_rate", "percent_agreement"})
KAPPAS = frozenset({"kappa", "kappa_ci_low", "kappa_ci_high"})


@dataclass(frozen=True)
class MachineTable:
    """One titled table of the machine section; ``weak`` marks rows below the kappa threshold."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[list[Any]]
    weak: list[bool] = field(default_factory=list)
    note: str = ""

    @property
    def headers(self) -> list[str]:
        return [MACHINE_LABELS.get(c, c) for c in self.columns]


def fmt_machine(key: str, value: Any) -> str:
    """A machine figure for people: rates in percent, kappa with three decimals, None as —."""
    if value is None:
        return "—"
    if key in MACHINE_RATES:
        return f"{100 * value:.1f}%"
    if key in KAPPAS:
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def machine_tables(payload: Mapping[str, Any]) -> list[MachineTable]:
    """The section's tables: centre, teams, agents, then (month or longer) the agreement table
    and its monthly trend; a single note for a snapshot made before the section existed."""
    section = payload.get("machine")
    if not section:
        return [MachineTable("missing", MACHINE_LABEL, ("note",), [[MISSING_NOTE]])]
    tables = [
        _figures("centre", "全中心", [(section.get("centre") or {}) | {"name": "全中心"}]),
        _figures("teams", "班组", section.get("teams", [])),
        _figures("agents", "坐席", section.get("agents", [])),
    ]
    if "agreement" in section:
        tables.append(_agreement(section["agreement"], _item_titles(payload)))
        tables.append(_trend(section.get("agreement_trend", [])))
    return [t for t in tables if t.rows or t.key in ("centre", "agreement")]


def _figures(key: str, title: str, rows: list[Mapping[str, Any]]) -> MachineTable:
    body = [[r.get(c) for c in FIGURE_COLUMNS] for r in rows]
    return MachineTable(key, f"{MACHINE_LABEL}·{title}", FIGURE_COLUMNS, body)


def _item_titles(payload: Mapping[str, Any]) -> dict[str, str]:
    return {r["item_code"]: r.get("title") or r["item_code"] for r in payload.get("items", [])}


def _agreement_cells(entry: Mapping[str, Any]) -> list[Any]:
    ci = entry.get("kappa_ci") or [None, None]
    return [entry.get("n"), entry.get("percent_agreement"), entry.get("kappa"), ci[0], ci[1]]


def _agreement(table: Mapping[str, Any], titles: Mapping[str, str]) -> MachineTable:
    rows, weak = [], []
    for entry in [*table.get("items", []), table.get("overall") or {}]:
        code = entry.get("code", "overall")
        name = "全部评分项" if code == "overall" else titles.get(code, code)
        confusion = entry.get("confusion") or {}
        counts = [confusion.get(c) for c in AGREEMENT_COLUMNS[6:10]]
        rows.append([name, *_agreement_cells(entry), *counts, "是" if entry.get("weak") else ""])
        weak.append(bool(entry.get("weak")) and code != "overall")
    note = (
        f"随机抽检的最终人工结果对比机器结果；Kappa低于 {table.get('threshold')} 的评分项标记为"
        f"“低于Kappa阈值”（质检评价 {table.get('evaluations', 0)} 份）。"
    )
    title = f"{MACHINE_LABEL}·人机一致性"
    return MachineTable("agreement", title, AGREEMENT_COLUMNS, rows, weak, note)


def _trend(trend: list[Mapping[str, Any]]) -> MachineTable:
    rows = [
        [t.get("period"), *_agreement_cells(t), t.get("weak_items")]
        for t in trend
        if t.get("n") is not None
    ]
    return MachineTable(
        "agreement_trend", f"{MACHINE_LABEL}·人机一致性月度趋势", TREND_COLUMNS, rows
    )


__all__ = [
    "MACHINE_LABELS",
    "MACHINE_RATES",
    "MachineTable",
    "fmt_machine",
    "machine_tables",
]
