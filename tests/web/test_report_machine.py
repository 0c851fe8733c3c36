"""The 机器结果 section of report snapshots: auto-QA over every analysed call and the
machine–human agreement, stored in the snapshot, on the page and in every export."""

from __future__ import annotations

import io
import subprocess
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from qa_platform.domain.transcript import Role, Severity
from qa_platform.services.context import Platform
from scoring.plan import PlanFilters, SamplingPlan
from scoring.reports import compute_report, export_report, get_snapshot
from scoring.services import autoqa
from scoring.services.autoqa_agreement import machine_human_agreement
from scoring.services.autoqa_reads import auto_evaluation_detail
from storage.models_reports import ReportSnapshot
from tests.factories import (
    FULL,
    add_call,
    analyse_call,
    flag,
    make_people,
    publish_scored,
    sample_and_assign,
)
from tests.web.conftest import Browser

DEC = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
LATER = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)
NO_CLOSING = flag("missing_closing", Severity.WARNING, Role.AGENT, 14.0, 19.5, "没有结束语")
ABUSE = flag("abuse_agent", Severity.CRITICAL, Role.AGENT, 5.0, 6.0, "骂人")
# per December call: (agent index, flags, auto-evaluated, human closing_phrase score)
CALLS = [
    (0, [NO_CLOSING], True, 0.0),
    (1, [NO_CLOSING], True, 4.0),
    (0, [], True, 4.0),
    (1, [ABUSE], True, 0.0),
    (1, [], False, 4.0),  # analysed, not auto-evaluated yet (so never paired)
]


def build_machine_world(platform: Platform, judge: bool = True) -> dict[str, list[int]]:
    """Five analysed December calls and one November call, all sampled and scored by people;
    the machine judges all but the fifth December call (unless ``judge`` is False)."""
    people = make_people(platform, inspectors=3, agents=2)
    ids: dict[str, list[int]] = {"december": [], "judged": [], "november": []}
    for day, (agent_n, flags, judged, _closing) in enumerate(CALLS):
        agent = people.agents[agent_n]
        at = DEC + timedelta(days=day)
        cid = add_call(platform, agent, people.teams[agent], status="queued", started_at=at)
        analyse_call(platform, cid, flags)
        ids["december"].append(cid)
        if judged:
            ids["judged"].append(cid)
    agent = people.agents[0]
    nov = add_call(
        platform, agent, people.teams[agent], status="queued", started_at=DEC - timedelta(days=20)
    )
    analyse_call(platform, nov, [NO_CLOSING])
    ids["november"].append(nov)
    if judge:
        judge_all(platform, ids)
    scored = {cid: c[3] for cid, c in zip(ids["december"], CALLS, strict=True)}
    scored[nov] = 0.0
    plan = SamplingPlan("all", size=len(scored), filters=PlanFilters())
    inspector = people.inspectors[2]  # team C: never the agents' team
    for ev in sample_and_assign(platform, plan, inspector_ids=[inspector]):
        scores = dict(FULL, closing_phrase=scored[ev["call_id"]])
        publish_scored(platform, ev["evaluation_id"], inspector, people.supervisor, scores, at=DEC)
    return ids


def judge_all(platform: Platform, ids: dict[str, list[int]]) -> None:
    for cid in ids["judged"] + ids["november"]:
        autoqa.evaluate_call(platform, cid)


@pytest.fixture
def world(platform: Platform) -> dict[str, list[int]]:
    return build_machine_world(platform)


@pytest.fixture
def monthly(platform: Platform, world: dict[str, list[int]]) -> dict:
    return compute_report(platform.uow(), "monthly", date(2026, 12, 1), now=LATER)


def _hand_count(platform: Platform, call_ids: list[int]) -> dict:
    """The machine figures of ``call_ids`` counted from each call's ``qa call show`` result."""
    with platform.uow() as uow:
        results = [auto_evaluation_detail(uow.session, c) for c in call_ids]
    judged = [r for r in results if r is not None]
    red = sum(1 for r in judged if any(i.get("violated") for i in r["items"]))
    return {
        "analysed": len(call_ids),
        "judged": len(judged),
        "coverage": round(len(judged) / len(call_ids), 4),
        "mean_total": round(sum(r["total"] for r in judged) / len(judged), 2),
        "pass_rate": round(sum(1 for r in judged if r["passed"]) / len(judged), 4),
        "red_line_suspects": red,
    }


def test_machine_figures_equal_a_hand_count_by_centre_team_and_agent(platform, world, monthly):
    machine = monthly["payload"]["machine"]
    assert machine["label"] == "机器结果" and machine["source"] == "machine"
    december = world["december"]
    centre = {k: v for k, v in machine["centre"].items() if k != "name"}
    assert centre == _hand_count(platform, december)
    assert (centre["analysed"], centre["judged"], centre["red_line_suspects"]) == (5, 4, 1)
    assert centre["analysed"] == monthly["payload"]["centre"]["calls_analysed"]
    by_agent = defaultdict(list)
    for cid, call in zip(december, CALLS, strict=True):
        by_agent[str(1000 + call[0])].append(cid)
    agents = {r["name"]: r for r in machine["agents"]}
    assert set(agents) == {"1000", "1001"}
    for code, ids in by_agent.items():
        assert {k: v for k, v in agents[code].items() if k != "name"} == _hand_count(platform, ids)
    teams = {r["name"]: r for r in machine["teams"]}  # agent0 in team A, agent1 in team B
    assert teams["A"]["analysed"] == 2 and teams["B"]["red_line_suspects"] == 1


def test_agreement_table_equals_the_autoqa_agreement_command(platform, monthly):
    stored = monthly["payload"]["machine"]["agreement"]
    assert stored == machine_human_agreement(platform, "2026-12").to_dict()
    items = {i["code"]: i for i in stored["items"]}
    assert items["closing_phrase"]["weak"] and stored["threshold"] == 0.6
    trend = monthly["payload"]["machine"]["agreement_trend"]
    assert [t["period"] for t in trend] == ["2026-11", "2026-12"]
    assert trend[1]["n"] == stored["overall"]["n"]
    assert trend[0]["n"] == machine_human_agreement(platform, "2026-11").overall.n


def test_quarterly_agreement_pools_its_months(platform, world):
    snap = compute_report(platform.uow(), "quarterly", date(2026, 12, 1), now=LATER)
    machine = snap["payload"]["machine"]
    months = {t["period"]: t["n"] for t in machine["agreement_trend"]}
    assert machine["agreement"]["period"] == "2026-Q4"
    assert machine["agreement"]["overall"]["n"] == months["2026-11"] + months["2026-12"]
    assert machine["centre"]["analysed"] == 6  # the November call too


def test_daily_report_has_machine_figures_but_no_agreement_table(platform, world):
    snap = compute_report(platform.uow(), "daily", date(2026, 12, 10), now=LATER)
    machine = snap["payload"]["machine"]
    assert machine["centre"]["analysed"] == 1 and machine["centre"]["red_line_suspects"] == 1
    assert "agreement" not in machine


def test_random_stream_figures_do_not_move_with_machine_rows(platform):
    ids = build_machine_world(platform, judge=False)
    before = compute_report(platform.uow(), "monthly", date(2026, 12, 1), now=LATER)
    assert before["payload"]["machine"]["centre"]["judged"] == 0
    judge_all(platform, ids)
    after = compute_report(platform.uow(), "monthly", date(2026, 12, 1), now=LATER)
    assert after["created"] and after["version"] == before["version"] + 1
    assert after["changes"] and all(c["path"].startswith("machine.") for c in after["changes"])
    drop = {"machine", "inputs", "pending_evaluations"}
    assert {k: v for k, v in after["payload"].items() if k not in drop} == {
        k: v for k, v in before["payload"].items() if k not in drop
    }


def test_published_snapshot_keeps_its_machine_section(platform, world, monthly):
    autoqa.evaluate_call(platform, world["december"][4])  # the last call is judged later
    assert get_snapshot(platform.uow(), monthly["id"])["payload"] == monthly["payload"]


def _login(app, username: str) -> Browser:
    b = Browser(app.test_client())
    assert b.login(username, "x").status_code == 303
    return b


def test_report_page_shows_machine_figures_and_marks_weak_items(app, monthly):
    html = _login(app, "sup1").get(f"/reports/{monthly['id']}").get_data(as_text=True)
    assert 'id="machine"' in html and "机器结果·全中心" in html and "机器结果·人机一致性" in html
    assert 'id="machine-agreement"' in html and 'class="weak"' in html
    assert "80.0%" in html  # coverage 4 / 5
    assert "本报告生成时未包含机器结果" not in html


def test_report_page_chrome_is_available_in_english(app, monthly):
    sup = _login(app, "sup1")
    sup.client.set_cookie("qa_lang", "en")
    html = sup.get(f"/reports/{monthly['id']}").get_data(as_text=True)
    assert "Machine results (机器结果)" in html and "not a sample" in html


def test_agent_sees_only_own_machine_line(app, platform, monthly):
    _login(app, "sup1").post(f"/reports/{monthly['id']}/publish")
    html = _login(app, "agent0").get(f"/reports/{monthly['id']}").get_data(as_text=True)
    assert "机器结果·全中心" in html and "机器结果·坐席" in html
    assert "1000" in html and "1001" not in html and "人机一致性" not in html


def test_old_snapshot_without_the_section_still_renders(app, platform, monthly):
    old_id = _store_old_snapshot(platform, monthly["id"])
    sup = _login(app, "sup1")
    page = sup.get(f"/reports/{old_id}")
    assert page.status_code == 200 and "本报告生成时未包含机器结果" in page.get_data(as_text=True)
    for fmt in ("csv", "xlsx", "pdf"):
        assert sup.get(f"/reports/{old_id}/export.{fmt}").status_code == 200
    csv = sup.get(f"/reports/{old_id}/export.csv").data.decode("utf-8-sig")
    assert "本报告生成时未包含机器结果" in csv


def _store_old_snapshot(platform: Platform, like: int) -> int:
    """A snapshot row as stored before the 机器结果 section existed (stored rows never change,
    so it is a further version of the same period without the ``machine`` key)."""
    with platform.uow() as uow:
        row = uow.session.get(ReportSnapshot, like)
        old = ReportSnapshot(
            kind=row.kind,
            period_start=row.period_start,
            period_end=row.period_end,
            period_label=row.period_label,
            version=row.version + 1,
            status=row.status,
            published=False,
            inputs=row.inputs,
            content_hash="legacy",
            payload={k: v for k, v in row.payload.items() if k != "machine"},
            changes=[],
            created_by="legacy",
            created_at=row.created_at,
        )
        uow.session.add(old)
        uow.commit()
        return old.id


def test_csv_and_xlsx_carry_the_machine_section_apart(monthly):
    payload = monthly["payload"]
    csv = export_report(payload, "csv", monthly).decode("utf-8-sig")
    assert "【机器结果·全中心】" in csv and "【机器结果·人机一致性】" in csv
    assert "机器覆盖率" in csv and "Kappa置信下限" in csv
    book = load_workbook(io.BytesIO(export_report(payload, "xlsx", monthly)))
    assert {"机器结果-全中心", "机器结果-坐席", "机器结果-人机一致性"} <= set(book.sheetnames)
    sheet = book["机器结果-全中心"]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["已分析通话量"] == 5 and row["机器已评通话量"] == 4 and row["机器覆盖率"] == 0.8
    agreement = book["机器结果-人机一致性"]
    names = [r[0].value for r in agreement.iter_rows(min_row=2) if r[0].value]
    assert "全部评分项" in names


def test_pdf_text_contains_the_machine_pages(monthly, tmp_path: Path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(export_report(monthly["payload"], "pdf", monthly))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "机器结果" in text and "人机一致性" in text and "机器覆盖率" in text


def test_pdf_of_an_old_snapshot_says_it_has_no_machine_section(monthly, tmp_path: Path):
    payload = {k: v for k, v in monthly["payload"].items() if k != "machine"}
    pdf = tmp_path / "old.pdf"
    pdf.write_bytes(export_report(payload, "pdf", monthly))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "本报告生成时未包含机器结果" in text and "人机一致性" not in text
