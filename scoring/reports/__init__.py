"""Quality reports (品质日报/周报/月报/季报/半年报): periods, metrics, stored snapshots, exports.

* ``periods``: a day, an ISO week, a month, a quarter or a half-year in centre time;
* ``statistics`` and ``metrics``: the figures, pure functions over plain rows;
* ``queries``: the SQL that loads one period's rows;
* ``snapshots``: compute, store, list, publish, diff and show a report (provisional → final);
* ``machine``, ``machine_section``, ``machine_tables``, ``machine_pdf``: the 机器结果 section
  (auto-QA over every analysed call, machine–human agreement), stored apart from the sample;
* ``labels``, ``charts`` and ``export``: Chinese labels, charts (PNG/SVG) and CSV/XLSX/PDF
  files; matplotlib and openpyxl are imported only when something is drawn or written.

The names below are what callers use; ``export_report`` is ``export.export`` (the module keeps
the name ``export``).
"""

from __future__ import annotations

from scoring.reports.charts import CHARTS, chart_bytes
from scoring.reports.export import EXPORTS, GROUP_COLUMNS
from scoring.reports.export import export as export_report
from scoring.reports.labels import RenderError, flag_title, fmt_value, label
from scoring.reports.machine import MACHINE_LABEL
from scoring.reports.machine_section import MISSING_NOTE, machine_section
from scoring.reports.machine_tables import MachineTable, fmt_machine, machine_tables
from scoring.reports.metrics import (
    CallCount,
    EvaluationFact,
    FlagCount,
    InspectorAgreement,
    ItemCount,
    ReportInputs,
    aggregate_calls,
    compute_metrics,
)
from scoring.reports.periods import (
    KIND_NAMES,
    Period,
    PeriodError,
    ReportKind,
    last_complete,
    parse_kind,
    parse_period,
    period_for,
)
from scoring.reports.queries import LoadedPeriod, load_period
from scoring.reports.snapshots import (
    FINAL,
    PROVISIONAL,
    PublishForbidden,
    ReportError,
    ReportNotFound,
    centre_tz,
    compute_report,
    content_hash,
    diff_payloads,
    get_snapshot,
    latest_snapshot,
    list_snapshots,
    publish_report,
    snapshot_dict,
    visible_report,
)
from scoring.reports.statistics import (
    Interval,
    MetricsError,
    mean_ci,
    pearson,
    ratio,
    spearman,
    wilson,
)

__all__ = [
    "CHARTS",
    "EXPORTS",
    "FINAL",
    "GROUP_COLUMNS",
    "KIND_NAMES",
    "MACHINE_LABEL",
    "MISSING_NOTE",
    "PROVISIONAL",
    "CallCount",
    "EvaluationFact",
    "FlagCount",
    "InspectorAgreement",
    "Interval",
    "ItemCount",
    "LoadedPeriod",
    "MachineTable",
    "MetricsError",
    "Period",
    "PeriodError",
    "PublishForbidden",
    "RenderError",
    "ReportError",
    "ReportInputs",
    "ReportKind",
    "ReportNotFound",
    "aggregate_calls",
    "centre_tz",
    "chart_bytes",
    "compute_metrics",
    "compute_report",
    "content_hash",
    "diff_payloads",
    "export_report",
    "flag_title",
    "fmt_machine",
    "fmt_value",
    "get_snapshot",
    "label",
    "last_complete",
    "latest_snapshot",
    "list_snapshots",
    "load_period",
    "machine_section",
    "machine_tables",
    "mean_ci",
    "parse_kind",
    "parse_period",
    "pearson",
    "period_for",
    "publish_report",
    "ratio",
    "snapshot_dict",
    "spearman",
    "visible_report",
    "wilson",
]
