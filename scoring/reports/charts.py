"""Quality-report charts (报表图表) as PNG or SVG, drawn with matplotlib.

Chinese text must render: the charts (and the PDF pages of ``scoring.reports.export``) use the
Noto Sans CJK font of Debian's ``fonts-noto-cjk``, found at run time through matplotlib's font
manager. matplotlib is imported on first use, never when the package is imported: workers and
the CLI compute reports without drawing anything.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from scoring.reports.labels import RenderError, flag_title, label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CJK_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf")
PREFERRED_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Noto Sans CJK JP")


@lru_cache(maxsize=1)
def load_matplotlib() -> ModuleType:
    """matplotlib on the Agg backend (no display on servers), imported once, on first use."""
    import matplotlib

    matplotlib.use("Agg")  # must precede any pyplot import
    return matplotlib


@lru_cache(maxsize=1)
def cjk_font_name() -> str:
    """Register Noto Sans CJK and return its Simplified Chinese family (SC face of the .ttc).

    RenderError naming the Debian package when no such font is installed.
    """
    load_matplotlib()
    from matplotlib import font_manager

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


def new_figure(width: float = 8.0, height: float = 4.5, layout: Any = "constrained") -> Figure:
    """An empty figure whose text is set in the CJK font (charts and PDF pages)."""
    matplotlib = load_matplotlib()
    from matplotlib.figure import Figure

    matplotlib.rcParams["font.family"] = [cjk_font_name(), "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["pdf.fonttype"] = 42  # embed the font's outlines (Chinese glyphs)
    return Figure(figsize=(width, height), layout=layout)


def _integer_axis(axis: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _pct(value: Any) -> float:
    return 0.0 if value is None else 100.0 * float(value)


def trend_chart(payload: Mapping[str, Any]) -> Figure:
    """This period against the previous one: mean score, and the rates in percent."""
    fig = new_figure()
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
    fig = new_figure()
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
    fig = new_figure()
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
    fig = new_figure()
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
    fig = new_figure()
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
    ax.bar(
        [x - 0.2 for x in xs],
        means,
        0.4,
        yerr=[low, high],
        capsize=4,
        color="#2b6cb0",
        label="平均分（95%置信区间）",
    )
    ax.bar(
        [x + 0.2 for x in xs],
        [_pct(r["pass_rate"]) for r in rows],
        0.4,
        color="#dd6b20",
        label="合格率 %",
    )
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
