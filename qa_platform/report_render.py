"""Quality-report charts and exports: PNG/SVG charts, CSV (UTF-8 with BOM), XLSX and PDF.

Chinese text must render everywhere: charts and the PDF use the Noto Sans CJK font of Debian's
``fonts-noto-cjk`` (found at run time through matplotlib's font manager); CSV carries a BOM so
Excel reads it as UTF-8; XLSX stores Unicode natively. Input is a snapshot payload (a dict).
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot

from matplotlib import font_manager
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from qa_platform.domain.errors import QaError

CJK_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf")


class RenderError(QaError):
    """A report cannot be rendered (e.g. no Chinese font installed); the message says how to fix."""


# --------------------------------------------------------------------------------------
# Labels

LABELS: dict[str, str] = {
    "name": "名称", "team": "班组", "calls_received": "受理通话量", "calls_analysed": "已分析通话量",
    "flagged_calls": "异常通话量", "flagged_rate": "异常率", "flagged_by_type": "异常类型分布",
    "sample_size": "随机抽检样本量", "coverage": "抽检覆盖率", "mean_score": "平均分",
    "mean_score_ci_low": "平均分置信下限", "mean_score_ci_high": "平均分置信上限",
    "pass_rate": "合格率", "pass_rate_ci_low": "合格率置信下限", "pass_rate_ci_high": "合格率置信上限",
    "red_lines": "红线次数", "red_line_calls": "触犯红线通话", "business_accuracy": "业务准确率",
    "compliance_accuracy": "合规准确率", "targeted_evaluations": "专项质检量",
    "targeted_mean_score": "专项质检平均分", "targeted_red_lines": "专项质检红线次数",
    "published_evaluations": "已发布质检量", "appeals": "申诉量", "appeal_rate": "申诉率",
    "appeals_decided": "复议完成量", "appeals_revised": "改判量", "overturn_rate": "改判率",
    "satisfaction_rated": "参评满意度样本", "satisfaction_rate": "客户满意度", "consistent": "评价一致量",
    "consistency_rate": "评价一致率", "item_code": "评分项代码", "title": "评分项", "category": "类别",
    "red_line": "红线项", "rated": "适用次数", "na": "不适用次数", "failed": "失分次数",
    "failure_rate": "失分率", "score_rate": "得分率", "rank": "排名", "flag_type": "异常类型",
    "calls": "通话量", "flags": "异常次数", "share": "占已分析通话比例", "evaluations": "质检量",
    "random": "随机抽检", "targeted": "专项质检", "mean_score_given": "给出平均分",
    "calibration_sessions": "校准场次", "calibration_agreement": "校准一致率",
    "calibration_kappa": "校准Kappa", "calibration_mad": "校准平均绝对偏差",
    "satisfied_from": "满意阈值(分)", "call_pairs": "通话样本对", "call_pearson": "通话级Pearson相关",
    "call_spearman": "通话级Spearman相关", "agent_pairs": "坐席样本数",
    "agent_pearson": "坐席级Pearson相关", "agent_spearman": "坐席级Spearman相关",
    "path": "指标", "old": "原值", "new": "新值", "low": "分数下限", "high": "分数上限", "count": "数量",
    "current": "本期", "previous": "上期", "delta": "变化",
}  # fmt: skip

FLAG_TITLES = {
    "ultra_short": "超短通话", "ultra_long": "超长通话", "long_silence": "长时间静音",
    "silence_ratio": "静音占比高", "abuse_agent": "坐席不文明用语", "abuse_customer": "客户辱骂",
    "missing_greeting": "缺少开场问候", "missing_agent_id": "未报工号",
    "missing_identity_check": "未核验身份", "missing_closing": "缺少结束语",
    "filler_words": "口头禅", "speech_rate": "语速异常", "interruption": "抢话打断",
    "complaint_risk": "投诉风险", "misleading_promise": "误导性承诺", "asr_unreliable": "转写不可靠",
}  # fmt: skip

RATE_KEYS = frozenset({
    "flagged_rate", "coverage", "pass_rate", "pass_rate_ci_low", "pass_rate_ci_high",
    "business_accuracy", "compliance_accuracy", "appeal_rate", "overturn_rate",
    "satisfaction_rate", "consistency_rate", "failure_rate", "score_rate", "share",
    "calibration_agreement",
})  # fmt: skip

SECTIONS: tuple[tuple[str, str], ...] = (
    ("centre", "全中心"), ("teams", "班组"), ("agents", "坐席"), ("business_types", "业务类型"),
    ("items", "评分项失分排名"), ("flag_types", "异常类型"), ("inspectors", "质检员工作量与一致性"),
    ("consistency", "满意度一致性分析"), ("score_histogram", "分数分布"), ("trend", "环比"),
)  # fmt: skip

GROUP_COLUMNS = (
    "name", "calls_received", "calls_analysed", "flagged_calls", "flagged_rate", "sample_size",
    "coverage", "mean_score", "mean_score_ci_low", "mean_score_ci_high", "pass_rate",
    "pass_rate_ci_low", "pass_rate_ci_high", "red_lines", "business_accuracy",
    "compliance_accuracy", "targeted_evaluations", "targeted_mean_score", "targeted_red_lines",
    "published_evaluations", "appeals", "appeal_rate", "appeals_revised", "overturn_rate",
    "satisfaction_rated", "satisfaction_rate", "consistency_rate",
)  # fmt: skip


def label(key: str) -> str:
    """The Chinese column label of a metric key (the key itself when none is defined)."""
    return LABELS.get(key, key)


def flag_title(flag_type: str) -> str:
    return FLAG_TITLES.get(flag_type, flag_type)


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
    if section == "consistency":
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


def _title_lines(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None) -> list[str]:
    lines = [str(payload.get("title", "品质报告"))]
    period = payload.get("period", {})
    lines.append(f"统计期间 {period.get('start', '')} 至 {period.get('end', '')}（不含）")
    if snapshot:
        status = {"provisional": "暂定（申诉期未结束）", "final": "终版"}.get(
            str(snapshot.get("status")), ""
        )
        published = "已发布" if snapshot.get("published") else "未发布"
        lines.append(f"版本 v{snapshot.get('version')} · {status} · {published}")
    return lines


# --------------------------------------------------------------------------------------
# CSV and XLSX


def to_csv(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None = None) -> bytes:
    """All sections one after another (title row, header, rows), UTF-8 with BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in _title_lines(payload, snapshot):
        writer.writerow([line])
    for section, title in SECTIONS:
        cols, rows = section_table(payload, section)
        writer.writerow([])
        writer.writerow([f"【{title}】"])
        writer.writerow(header(cols))
        writer.writerows([["" if v is None else v for v in r] for r in rows])
    if snapshot and snapshot.get("changes"):
        writer.writerow([])
        writer.writerow(["【与上一版本相比的变化】"])
        writer.writerow([label("path"), label("old"), label("new")])
        writer.writerows([[c["path"], c["old"], c["new"]] for c in snapshot["changes"]])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None = None) -> bytes:
    """One sheet per section with Chinese headers; rates formatted as percentages."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    cover = wb.active
    cover.title = "概览"
    for line in _title_lines(payload, snapshot):
        cover.append([line])
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
    if snapshot and snapshot.get("changes"):
        sheet = wb.create_sheet("变更记录")
        sheet.append([label("path"), label("old"), label("new")])
        for c in snapshot["changes"]:
            sheet.append([c["path"], _cell_value(c["old"]), _cell_value(c["new"])])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _cell_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return (
            "; ".join(f"{flag_title(k)}: {v}" for k, v in value.items())
            if isinstance(value, dict)
            else str(value)
        )
    return value


def _format_rates(sheet: Any, cols: Sequence[str]) -> None:
    for index, key in enumerate(cols, start=1):
        if key in RATE_KEYS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.0%"
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = 14


# --------------------------------------------------------------------------------------
# Charts


PREFERRED_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK JP")


@lru_cache(maxsize=1)
def cjk_font_name() -> str:
    """Register Noto Sans CJK and return its Simplified Chinese family (SC face of the .ttc).

    RenderError naming the Debian package when no such font is installed.
    """
    for path in font_manager.findSystemFonts():
        if path.rsplit("/", 1)[-1] in CJK_FILES:
            font_manager.fontManager.addfont(path)
    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in PREFERRED_FAMILIES:
        if family in names:
            return family
    raise RenderError(
        "no Chinese font found for charts and PDF: install Debian package fonts-noto-cjk "
        "(Noto Sans CJK in /usr/share/fonts/opentype/noto/)"
    )


def _figure(width: float = 8.0, height: float = 4.5, layout: Any = "constrained") -> Figure:
    matplotlib.rcParams["font.family"] = [cjk_font_name(), "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["pdf.fonttype"] = 42  # embed the font's outlines (Chinese glyphs)
    return Figure(figsize=(width, height), layout=layout)


def _integer_axis(axis: Any) -> None:
    axis.set_major_locator(MaxNLocator(integer=True))


def _pct(value: Any) -> float:
    return 0.0 if value is None else 100.0 * float(value)


def trend_chart(payload: Mapping[str, Any]) -> Figure:
    """This period against the previous one: mean score, and the rates in percent."""
    fig = _figure()
    metrics = payload.get("trend", {}).get("metrics", {})
    prev_label = payload.get("trend", {}).get("previous_label", "上期")
    ax_score, ax_rate = fig.subplots(1, 2, width_ratios=[1, 3])
    m = metrics.get("mean_score", {})
    ax_score.bar(
        ["上期", "本期"],
        [m.get("previous") or 0, m.get("current") or 0],
        color=["#9fb3c8", "#2b6cb0"],
    )
    ax_score.set_title("平均分")
    ax_score.set_ylim(0, 100)
    if m.get("previous") is None:
        ax_score.text(0, 5, "上期无数据", ha="center", fontsize=9, color="#555555")
    keys = [
        "pass_rate",
        "business_accuracy",
        "compliance_accuracy",
        "appeal_rate",
        "consistency_rate",
    ]
    xs = range(len(keys))
    ax_rate.bar(
        [x - 0.2 for x in xs],
        [_pct(metrics.get(k, {}).get("previous")) for k in keys],
        0.4,
        label=f"上期 {prev_label}",
        color="#9fb3c8",
    )
    ax_rate.bar(
        [x + 0.2 for x in xs],
        [_pct(metrics.get(k, {}).get("current")) for k in keys],
        0.4,
        label="本期",
        color="#2b6cb0",
    )
    ax_rate.set_xticks(list(xs), [label(k) for k in keys])
    ax_rate.set_ylim(0, 125)
    ax_rate.set_ylabel("%")
    ax_rate.set_title("主要指标环比")
    ax_rate.legend(loc="upper center", ncols=2, fontsize=8)
    fig.suptitle(f"{payload.get('title', '')} 环比趋势")
    return fig


def score_distribution_chart(payload: Mapping[str, Any]) -> Figure:
    """Histogram of random-stream scores in bins of 10 points."""
    fig = _figure()
    ax = fig.subplots()
    bins = payload.get("score_histogram", [])
    ax.bar([f"{b['low']}–{b['high']}" for b in bins], [b["count"] for b in bins], color="#2b6cb0")
    ax.set_xlabel("得分区间")
    ax.set_ylabel("通话数（随机抽检）")
    _integer_axis(ax.yaxis)
    ax.set_title("随机抽检分数分布")
    return fig


def flag_types_chart(payload: Mapping[str, Any]) -> Figure:
    """Flagged calls per flag type (异常类型)."""
    fig = _figure()
    ax = fig.subplots()
    rows = list(reversed(payload.get("flag_types", [])[:12]))
    ax.barh([flag_title(r["flag_type"]) for r in rows], [r["calls"] for r in rows], color="#c05621")
    ax.set_xlabel("异常通话量")
    _integer_axis(ax.xaxis)
    ax.set_title("异常类型分布")
    if not rows:
        ax.text(0.5, 0.5, "本期无异常通话", ha="center", va="center", transform=ax.transAxes)
    return fig


def item_failure_chart(payload: Mapping[str, Any]) -> Figure:
    """Scorecard items ranked by failure rate, worst ten."""
    fig = _figure()
    ax = fig.subplots()
    rows = [r for r in payload.get("items", []) if r.get("failed")][:10]
    rows.reverse()
    titles = [textwrap.fill(r["title"], 12) for r in rows]  # CJK: wrap by characters
    ax.barh(titles, [_pct(r["failure_rate"]) for r in rows], color="#9b2c2c")
    ax.set_xlabel("失分率 %")
    ax.set_title("评分项失分排名（前十）")
    if not rows:
        ax.text(0.5, 0.5, "本期无失分项", ha="center", va="center", transform=ax.transAxes)
    return fig


def team_comparison_chart(payload: Mapping[str, Any]) -> Figure:
    """Mean score per team with its confidence interval, and pass rate."""
    fig = _figure()
    ax = fig.subplots()
    rows = [r for r in payload.get("teams", []) if r.get("mean_score") is not None]
    names = [r["name"] for r in rows]
    means = [r["mean_score"] for r in rows]
    # the interval is drawn within the possible score range 0–100 (the tables show it raw)
    low = [
        r["mean_score"] - max(0.0, r["mean_score_ci_low"])
        if r["mean_score_ci_low"] is not None
        else 0
        for r in rows
    ]
    high = [
        min(100.0, r["mean_score_ci_high"]) - r["mean_score"]
        if r["mean_score_ci_high"] is not None
        else 0
        for r in rows
    ]
    xs = list(range(len(rows)))
    ax.bar([x - 0.2 for x in xs], means, 0.4, yerr=[low, high], capsize=4, color="#2b6cb0",
           label="平均分（95%置信区间）")  # fmt: skip
    ax.bar([x + 0.2 for x in xs], [_pct(r["pass_rate"]) for r in rows], 0.4, color="#dd6b20",
           label="合格率 %")  # fmt: skip
    ax.set_xticks(xs, names)
    ax.set_ylim(0, 130)
    ax.set_title("班组对比（随机抽检）")
    ax.legend(loc="upper center", ncols=2, fontsize=8)
    return fig


CHARTS: dict[str, Callable[[Mapping[str, Any]], Figure]] = {
    "trend": trend_chart,
    "scores": score_distribution_chart,
    "flags": flag_types_chart,
    "items": item_failure_chart,
    "teams": team_comparison_chart,
}


def chart_bytes(payload: Mapping[str, Any], name: str, fmt: str = "png") -> bytes:
    """One chart as PNG or SVG bytes."""
    if name not in CHARTS:
        raise RenderError(f"chart {name!r} must be one of {sorted(CHARTS)}")
    if fmt not in ("png", "svg"):
        raise RenderError(f"chart format {fmt!r} must be png or svg")
    buffer = io.BytesIO()
    CHARTS[name](payload).savefig(buffer, format=fmt, dpi=110)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------
# PDF


def to_pdf(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None = None) -> bytes:
    """A4 landscape pages: summary table, then the five charts, then the team table."""
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": str(payload.get("title", "品质报告"))}) as pdf:
        pdf.savefig(_summary_page(payload, snapshot))
        for chart in CHARTS.values():
            fig = chart(payload)
            fig.set_size_inches(11.69, 8.27)
            pdf.savefig(fig)
        pdf.savefig(_group_page(payload, "teams", "班组指标"))
    return buffer.getvalue()


SUMMARY_KEYS = (
    "calls_received", "calls_analysed", "flagged_calls", "sample_size", "coverage", "mean_score",
    "pass_rate", "red_lines", "business_accuracy", "compliance_accuracy", "appeal_rate",
    "overturn_rate", "satisfaction_rate", "consistency_rate",
)  # fmt: skip


def fmt_value(key: str, value: Any) -> str:
    """A figure for people: rates in percent, scores with one decimal, None as —."""
    if value is None:
        return "—"
    if key in RATE_KEYS:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _summary_page(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None) -> Figure:
    fig = _figure(11.69, 8.27, layout=None)
    for n, line in enumerate(_title_lines(payload, snapshot)):
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
    fig = _figure(11.69, 8.27, layout=None)
    fig.text(0.05, 0.94, title, fontsize=16)
    keys = ["name", "calls_received", "sample_size", "mean_score", "pass_rate", "red_lines",
            "business_accuracy", "compliance_accuracy", "appeal_rate", "overturn_rate"]  # fmt: skip
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
