"""PDF pages of the machine section (机器结果) of a report, A4 landscape like the others."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scoring.reports.charts import new_figure
from scoring.reports.machine import MACHINE_LABEL
from scoring.reports.machine_tables import MachineTable, fmt_machine, machine_tables

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PAGE = (11.69, 8.27)
MAX_ROWS = 22  # rows of one table on a page; the XLSX and CSV carry every row
FIGURE_PAGE = ("centre", "teams", "missing")
NOTE = (
    "机器结果：自动质检覆盖本期全部已分析通话（非抽样），与随机抽检的指标分开统计，不计入抽检KPI。"
)


def machine_pages(payload: Mapping[str, Any]) -> list[Figure]:
    """The centre and team figures on one page, agents on the next, the agreement table and
    its monthly trend on a third (a month or longer)."""
    tables = {t.key: t for t in machine_tables(payload)}
    groups = [
        [tables[k] for k in FIGURE_PAGE if k in tables],
        [tables[k] for k in ("agents",) if k in tables],
        [tables[k] for k in ("agreement", "agreement_trend") if k in tables],
    ]
    return [_page(group) for group in groups if group]


def _page(tables: list[MachineTable]) -> Figure:
    fig = new_figure(*PAGE, layout=None)
    fig.text(0.03, 0.95, f"{MACHINE_LABEL}（全量自动质检）", fontsize=16)
    fig.text(0.03, 0.02, NOTE, fontsize=8)
    top, height = 0.9, 0.85 / len(tables)
    for table in tables:
        _table(fig, table, (0.03, top - height + 0.02, 0.9, height - 0.06))
        top -= height
    return fig


def _table(fig: Figure, table: MachineTable, box: tuple[float, float, float, float]) -> None:
    left, bottom, width, height = box
    fig.text(left, bottom + height + 0.01, table.title, fontsize=11)
    if table.note:  # under the title, above the table
        fig.text(left, bottom + height - 0.015, table.note, fontsize=8)
        height -= 0.035
    ax = fig.add_axes((left, bottom, width, height))
    ax.axis("off")
    rows = [[fmt_machine(c, v) for c, v in zip(table.columns, r, strict=True)] for r in table.rows]
    shown = rows[:MAX_ROWS]
    if not shown:
        ax.text(0.5, 0.5, "本期无数据", ha="center")
        return
    n = len(table.columns)
    first = 0.18 if table.key == "agreement" else 1 / n
    widths = [first] + [(1 - first) / (n - 1)] * (n - 1) if n > 1 else [1.0]
    drawn = ax.table(
        cellText=shown,
        colLabels=[h.replace("/", "/\n") for h in table.headers],
        colWidths=widths,
        loc="upper left",
        cellLoc="center",
    )
    drawn.auto_set_font_size(False)
    if any("/" in h for h in table.headers):  # two-line headers need a taller first row
        for col in range(len(table.columns)):
            drawn[0, col].set_height(drawn[0, col].get_height() * 2)
    drawn.set_fontsize(7 if len(table.columns) > 8 else 8)
    for n, weak in enumerate(table.weak[:MAX_ROWS], start=1):
        if weak:
            for col in range(len(table.columns)):
                drawn[n, col].set_facecolor("#fde2e1")
    if len(rows) > MAX_ROWS:
        more = f"另有 {len(rows) - MAX_ROWS} 行，见 XLSX/CSV 导出"
        ax.text(0.0, -0.02, more, fontsize=8, transform=ax.transAxes)


__all__ = ["machine_pages"]
