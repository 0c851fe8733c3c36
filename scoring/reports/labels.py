"""Chinese labels of report figures (报表指标名称) and how a figure is written for people.

Shared by the tables (CSV, XLSX), the charts and the PDF of ``scoring.reports.export``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qa_platform.domain.errors import Invalid


class RenderError(Invalid):
    """A report cannot be rendered (e.g. no Chinese font installed); the message says how to fix."""


LABELS: dict[str, str] = {
    "name": "名称",
    "team": "班组",
    "calls_received": "受理通话量",
    "calls_analysed": "已分析通话量",
    "flagged_calls": "异常通话量",
    "flagged_rate": "异常率",
    "flagged_by_type": "异常类型分布",
    "sample_size": "随机抽检样本量",
    "coverage": "抽检覆盖率",
    "mean_score": "平均分",
    "mean_score_ci_low": "平均分置信下限",
    "mean_score_ci_high": "平均分置信上限",
    "pass_rate": "合格率",
    "pass_rate_ci_low": "合格率置信下限",
    "pass_rate_ci_high": "合格率置信上限",
    "red_lines": "红线次数",
    "red_line_calls": "触犯红线通话",
    "business_accuracy": "业务准确率",
    "compliance_accuracy": "合规准确率",
    "targeted_evaluations": "专项质检量",
    "targeted_mean_score": "专项质检平均分",
    "targeted_red_lines": "专项质检红线次数",
    "published_evaluations": "已发布质检量",
    "appeals": "申诉量",
    "appeal_rate": "申诉率",
    "appeals_decided": "复议完成量",
    "appeals_revised": "改判量",
    "overturn_rate": "改判率",
    "customers_rated": "有效参评客户数",
    "customers_satisfied": "表示满意的客户数",
    "customer_satisfaction_rate": "客户满意度（全部有效参评）",
    "training_new_agents": "上岗30天内新员工数",
    "training_evaluations": "新员工30天质检总量",
    "training_passed": "新员工30天合格录音量",
    "training_quality_rate": "培训质量（A.2）",
    "satisfaction_rated": "抽检样本中参评数",
    "satisfaction_rate": "抽检样本满意度",
    "consistent": "评价一致量",
    "consistency_rate": "评价一致率",
    "item_code": "评分项代码",
    "title": "评分项",
    "category": "类别",
    "red_line": "红线项",
    "rated": "适用次数",
    "na": "不适用次数",
    "failed": "失分次数",
    "failure_rate": "失分率",
    "score_rate": "得分率",
    "rank": "排名",
    "flag_type": "异常类型",
    "calls": "通话量",
    "flags": "异常次数",
    "share": "占已分析通话比例",
    "evaluations": "质检量",
    "random": "随机抽检",
    "targeted": "专项质检",
    "mean_score_given": "给出平均分",
    "calibration_sessions": "校准场次",
    "calibration_agreement": "校准一致率",
    "calibration_kappa": "校准Kappa",
    "calibration_mad": "校准平均绝对偏差",
    "satisfied_from": "满意阈值(分)",
    "call_pairs": "通话样本对",
    "call_pearson": "通话级Pearson相关",
    "call_spearman": "通话级Spearman相关",
    "agent_pairs": "坐席样本数",
    "agent_pearson": "坐席级Pearson相关",
    "agent_spearman": "坐席级Spearman相关",
    "path": "指标",
    "old": "原值",
    "new": "新值",
    "low": "分数下限",
    "high": "分数上限",
    "count": "数量",
    "current": "本期",
    "previous": "上期",
    "delta": "变化",
}

FLAG_TITLES = {
    "ultra_short": "超短通话",
    "ultra_long": "超长通话",
    "long_silence": "长时间静音",
    "silence_ratio": "静音占比高",
    "abuse_agent": "坐席不文明用语",
    "abuse_customer": "客户辱骂",
    "missing_greeting": "缺少开场问候",
    "missing_agent_id": "未报工号",
    "missing_identity_check": "未核验身份",
    "missing_closing": "缺少结束语",
    "filler_words": "口头禅",
    "speech_rate": "语速异常",
    "interruption": "抢话打断",
    "complaint_risk": "投诉风险",
    "misleading_promise": "误导性承诺",
    "asr_unreliable": "转写不可靠",
}

RATE_KEYS = frozenset(
    {
        "flagged_rate",
        "coverage",
        "pass_rate",
        "pass_rate_ci_low",
        "pass_rate_ci_high",
        "business_accuracy",
        "compliance_accuracy",
        "appeal_rate",
        "overturn_rate",
        "satisfaction_rate",
        "customer_satisfaction_rate",
        "training_quality_rate",
        "consistency_rate",
        "failure_rate",
        "score_rate",
        "share",
        "calibration_agreement",
    }
)


def label(key: str) -> str:
    """The Chinese column label of a metric key (the key itself when none is defined)."""
    return LABELS.get(key, key)


def flag_title(flag_type: str) -> str:
    return FLAG_TITLES.get(flag_type, flag_type)


def fmt_value(key: str, value: Any) -> str:
    """A figure for people: rates in percent, scores with one decimal, None as —."""
    if value is None:
        return "—"
    if key in RATE_KEYS:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def title_lines(payload: Mapping[str, Any], snapshot: Mapping[str, Any] | None) -> list[str]:
    """The heading of an export: title, period, and the snapshot's version and status."""
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
