"""Exports and the ``qa report`` command over real snapshots: Chinese intact in every format."""

from __future__ import annotations

import io
import json
import subprocess

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from qa_platform.cli.reports import report
from scoring.reports import chart_bytes, compute_report
from scoring.reports.export import export
from tests.factories import DAY, DURING_WINDOW
from tests.factories import build_report_world as build_world


@pytest.fixture
def snap(platform):
    build_world(platform)
    return compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW)


def test_csv_has_bom_and_reads_back_in_chinese(snap):
    data = export(snap["payload"], "csv", snap)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    text = data.decode("utf-8-sig")
    assert "品质日报 2026-03-02" in text
    assert "【班组】" in text and "业务准确率" in text and "理赔" in text
    assert "长时间静音" in text  # flag type in Chinese


def test_xlsx_reads_back_with_sheets_and_headers_in_chinese(snap):
    wb = load_workbook(io.BytesIO(export(snap["payload"], "xlsx", snap)))
    assert {"概览", "全中心", "班组", "坐席", "评分项失分排名"} <= set(wb.sheetnames)
    centre = wb["全中心"]
    headers = [c.value for c in centre[1]]
    assert "业务准确率" in headers and "合规准确率" in headers
    row = dict(zip(headers, [c.value for c in centre[2]], strict=True))
    assert row["业务准确率"] == 0.5
    assert centre.cell(2, headers.index("业务准确率") + 1).number_format == "0.0%"
    items = [r[1].value for r in wb["评分项失分排名"].iter_rows(min_row=2)]
    assert "业务解答准确" in items


def test_pdf_embeds_the_cjk_font_and_its_text_is_chinese(snap, tmp_path):
    """Needs poppler-utils (scripts/setup.sh installs it)."""
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(export(snap["payload"], "pdf", snap))
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "NotoSansCJK" in fonts
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "品质日报 2026-03-02" in text and "业务准确率" in text and "班组对比" in text
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
        capture_output=True,
    )
    # summary, 5 charts, team table, then 机器结果: centre and teams, agents (no agreement: daily)
    assert len(list(tmp_path.glob("p-*.png"))) == 9


def test_charts_render_as_png_and_svg(snap):
    for name in ("trend", "scores", "flags", "items", "teams"):
        assert chart_bytes(snap["payload"], name).startswith(b"\x89PNG")
    svg = chart_bytes(snap["payload"], "items", "svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_cli_computes_publishes_and_exports(platform, tmp_path):
    build_world(platform)
    runner = CliRunner()
    result = runner.invoke(report, ["daily", "--date", "2026-03-02"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["period_label"], shown["version"]) == ("2026-03-02", 1)
    assert shown["payload"]["centre"]["sample_size"] == 6
    out = tmp_path / "r.xlsx"
    result = runner.invoke(
        report,
        [
            "daily",
            "--date",
            "2026-03-02",
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--publish",
            "--by",
            "sup1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"PK")
    listed = json.loads(runner.invoke(report, ["list", "--published", "--json"]).output)
    assert [(r["period_label"], r["version"]) for r in listed] == [("2026-03-02", 1)]


def test_cli_rejects_a_bad_date(platform):
    result = CliRunner().invoke(report, ["weekly", "--date", "last tuesday"])
    assert result.exit_code != 0
    assert "must be a date" in str(result.exception or result.output)


def test_beat_task_computes_the_report_in_process(platform):
    from celery import Celery

    from workers.report_tasks import register_report_tasks

    build_world(platform)
    app = Celery("t", set_as_current=False)
    register_report_tasks(app)
    result = app.tasks["qa.reports.weekly"].apply(kwargs={"day": "2026-03-04"}).get()
    assert (result["kind"], result["period_label"], result["created"]) == (
        "weekly",
        "2026-W10",
        True,
    )
    again = app.tasks["qa.reports.weekly"].apply(kwargs={"day": "2026-03-04"}).get()
    assert (again["id"], again["created"]) == (result["id"], False)  # redelivery is harmless
