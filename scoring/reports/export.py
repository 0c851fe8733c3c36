"""Quality-report exports (报表导出): CSV (UTF-8 with BOM), XLSX and PDF.

Chinese text must render everywhere: the PDF uses the charts' Noto Sans CJK font
(``scoring.reports.charts``); CSV carries a BOM so Excel reads it as UTF-8; XLSX stores Unicode
natively. Input is a snapshot payload (a dict). matplotlib and openpyxl are imported only when
a PDF or XLSX is made.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from scoring.reports.charts import CHARTS, load_matplotlib, new_figure
from scoring.reports.labels import (
    RATE_KEYS,
    RenderError,
    flag_title,
    fmt_value,
    label,
    title_lines,
)
from scoring.reports.machine_pdf import machine_pages
from scoring.reports.machine_tables import MACHINE_RATES, machine_tables

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SECTIONS: tuple[tuple[str, str], ...] = (
    ("centre", "全中心"),
    ("teams", "班组"),
    ("agents", "坐席"),
    ("business_types", "业务类型"),
    ("items", "评分项失分排名"),
    ("flag_types", "异常类型"),
    ("inspectors", "质检员工作量与一致性"),
    ("consistency", "满意度一致性分析"),
    ("training", "培训质量（A.2）"),
    ("score_histogram", "分数分布"),
    ("trend", "环比"),
)

GROUP_COLUMNS = (
    "name",
    "calls_received",
    "calls_analysed",
    "flagged_calls",
    "flagged_rate",
    "sample_size",
    "coverage",
    "mean_score",
    "mean_score_ci_low",
    "mean_score_ci_high",
    "pass_rate",
    "pass_rate_ci_low",
    "pass_rate_ci_high",
    "red_lines",
    "business_accuracy",
    "compliance_accuracy",
    "targeted_evaluations",
    "targeted_mean_score",
    "targeted_red_lines",
    "published_evaluations",
    "appeals",
    "appeal_rate",
    "appeals_revised",
    "overturn_rate",
    "customers_rated",
    "customer_satisfaction_rate",
    "satisfaction_rated",
    "satisfaction_rate",
    "consistency_rate",
)


# --------------------------------------------------------------------------------------
# Tables (shared by CSV, XLSX, PDF)


def section_table(payload: Mapping[str, Any], section: str) -> tuple[list[str], list[list[Any]]]:
    """(column keys, rows) of one section of the payload, flattened for a spreadsheet."""
    value = payload.get(section)
    if section == "centre":
        return list(GROUP_COLUMNS), [[(value or {}).get(k) for k in GROUP_COLUMNS]]
    if section in ("teams", "agents", "business_types"):
        cols = ["name", "team", *GROUP_COLUMNS[1:]] if section == "agents" else list(GROUP_COLUMNS)
        return cols, [[row.get(k) for k in cols] for row in value or []]
    if section in ("consistency", "training"):
        return ["name", "value"], [[label(k), v] for k, v in (value or {}).items()]
    if section == "trend":
        metrics = (value or {}).get("metrics", {})
        cols = ["name", "current", "previous", "delta"]
        return cols, [[label(k)] + [m.get(c) for c in cols[1:]] for k, m in metrics.items()]
    rows = value or []
    cols = list(rows[0].keys()) if rows else []
    table = [[row.get(k) for k in cols] for row in rows]
    if section == "flag_types" and cols:
        cols = ["flag_title", *cols]
        table = [[flag_title(r[0]), *r] for r in table]
    return cols, table


def header(cols: Sequence[str]) -> list[str]:
    return [{"value": "数值", "flag_title": "异常名称"}.get(c, label(c)) for c in cols]


# --------------------------------------------------------------------------------------
# CSV and XLSX


def to_csv(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None = None) -> bytes:
    """All sections one after another (title row, header, rows), UTF-8 with BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in title_lines(payload, snapshot):
        writer.writerow([safe_cell(line)])
    for section, title in SECTIONS:
        cols, rows = section_table(payload, section)
        writer.writerow([])
        writer.writerow([f"【{title}】"])
        writer.writerow(header(cols))
        writer.writerows([["" if v is None else safe_cell(v) for v in r] for r in rows])
    for table in machine_tables(payload):
        writer.writerow([])
        writer.writerow([f"【{table.title}】"])
        writer.writerow(table.headers)
        writer.writerows([["" if v is None else safe_cell(v) for v in r] for r in table.rows])
        if table.note:
            writer.writerow([table.note])
    if snapshot and snapshot.get("changes"):
        writer.writerow([])
        writer.writerow(["【与上一版本相比的变化】"])
        writer.writerow([label("path"), label("old"), label("new")])
        writer.writerows(
            [[safe_cell(c["path"]), safe_cell(c["old"]), safe_cell(c["new"])]]
            for c in snapshot["changes"]
        )
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None = None) -> bytes:
    """One sheet per section with Chinese headers; rates formatted as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    cover = wb.active
    cover.title = "概览"
    for line in title_lines(payload, snapshot):
        cover.append([safe_cell(line)])
    cover["A1"].font = Font(bold=True, size=14)
    for section, title in SECTIONS:
        cols, rows = section_table(payload, section)
        sheet = wb.create_sheet(title[:31])
        sheet.append(header(cols))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell_value(v) for v in row])
        _format_rates(sheet, cols)
    _machine_sheets(wb, payload)
    if snapshot and snapshot.get("changes"):
        sheet = wb.create_sheet("变更记录")
        sheet.append([label("path"), label("old"), label("new")])
        for c in snapshot["changes"]:
            sheet.append([safe_cell(c["path"]), _cell_value(c["old"]), _cell_value(c["new"])])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _machine_sheets(wb: Any, payload: Mapping[str, Any]) -> None:
    """One sheet per machine table, each named 机器结果-…, apart from the sample's sheets."""
    from openpyxl.styles import Font

    for table in machine_tables(payload):
        sheet = wb.create_sheet(table.title.replace("·", "-")[:31])
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell_value(v) for v in row])
        if table.note:
            sheet.append([])
            sheet.append([safe_cell(table.note)])
        _format_rates(sheet, ["coverage" if c in MACHINE_RATES else "" for c in table.columns])


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run (OWASP CSV injection): text starting with
    ``= + - @``, tab or CR gets a leading single quote; numbers and other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _cell_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = (
            "; ".join(f"{flag_title(k)}: {v}" for k, v in value.items())
            if isinstance(value, dict)
            else str(value)
        )
    return safe_cell(value)


def _format_rates(sheet: Any, cols: Sequence[str]) -> None:
    for index, key in enumerate(cols, start=1):
        if key in RATE_KEYS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.0%"
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = 14


# --------------------------------------------------------------------------------------
# PDF


def to_pdf(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None = None) -> bytes:
    """A4 landscape pages: summary table, the five charts, the team table, then 机器结果."""
    load_matplotlib()
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": str(payload.get("title", "品质报告"))}) as pdf:
        pdf.savefig(_summary_page(payload, snapshot))
        for chart in CHARTS.values():
            fig = chart(payload)
            fig.set_size_inches(11.69, 8.27)
            pdf.savefig(fig)
        pdf.savefig(_group_page(payload, "teams", "班组指标"))
        for page in machine_pages(payload):
            pdf.savefig(page)
    return buffer.getvalue()


SUMMARY_KEYS = (
    "calls_received",
    "calls_analysed",
    "flagged_calls",
    "sample_size",
    "coverage",
    "mean_score",
    "pass_rate",
    "red_lines",
    "business_accuracy",
    "compliance_accuracy",
    "appeal_rate",
    "overturn_rate",
    "customer_satisfaction_rate",
    "satisfaction_rate",
    "consistency_rate",
    "training_quality_rate",
)


def _summary_page(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None) -> Figure:
    fig = new_figure(11.69, 8.27, layout=None)
    for n, line in enumerate(title_lines(payload, snapshot)):
        fig.text(0.05, 0.94 - 0.04 * n, line, fontsize=18 if n == 0 else 11)
    centre = payload.get("centre", {})
    trend = payload.get("trend", {}).get("metrics", {})
    rows = [
        [label(k), fmt_value(k, centre.get(k)), fmt_value(k, trend.get(k, {}).get("previous"))]
        for k in SUMMARY_KEYS
    ]
    ci = f"[{fmt_value('x', centre.get('mean_score_ci_low'))}, {fmt_value('x', centre.get('mean_score_ci_high'))}]"
    rows.insert(6, ["平均分95%置信区间", ci, ""])
    ax = fig.add_axes((0.05, 0.05, 0.6, 0.75))
    ax.axis("off")
    table = ax.table(
        cellText=rows, colLabels=["指标", "本期", "上期"], loc="upper left", cellLoc="left"
    )
    table.scale(1, 1.35)
    note = (
        "说明：平均分、合格率、红线、业务/合规准确率、评价一致率仅来自随机抽检；专项质检单独统计。"
    )
    fig.text(0.05, 0.02, note, fontsize=8)
    return fig


def _group_page(payload: Mapping[str, Any], section: str, title: str) -> Figure:
    fig = new_figure(11.69, 8.27, layout=None)
    fig.text(0.05, 0.94, title, fontsize=16)
    keys = [
        "name",
        "calls_received",
        "sample_size",
        "mean_score",
        "pass_rate",
        "red_lines",
        "business_accuracy",
        "compliance_accuracy",
        "appeal_rate",
        "overturn_rate",
    ]
    rows = [[fmt_value(k, r.get(k)) for k in keys] for r in payload.get(section, [])[:25]]
    ax = fig.add_axes((0.03, 0.05, 0.94, 0.85))
    ax.axis("off")
    if rows:
        table = ax.table(
            cellText=rows, colLabels=[label(k) for k in keys], loc="upper left", cellLoc="center"
        )
        table.auto_set_font_size(False)
        table.set_fontsize(9)
        table.scale(1, 1.4)
    else:
        ax.text(0.5, 0.5, "本期无数据", ha="center")
    return fig


EXPORTS: dict[str, tuple[Callable[..., bytes], str, str]] = {
    "csv": (to_csv, "text/csv; charset=utf-8", "csv"),
    "xlsx": (to_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pdf": (to_pdf, "application/pdf", "pdf"),
}


def export(
    payload: Mapping[str, Any], fmt: str, snapshot: Mapping[str, Any] | None = None
) -> bytes:
    """The report in ``fmt`` (csv | xlsx | pdf)."""
    if fmt not in EXPORTS:
        raise RenderError(f"export format {fmt!r} must be one of {sorted(EXPORTS)}")
    return EXPORTS[fmt][0](payload, snapshot)
