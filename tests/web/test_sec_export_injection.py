"""Report exports from the reports page neutralise spreadsheet formulas (OWASP CSV injection):
a team called ``=HYPERLINK(...)`` and business types starting with ``@ + - =`` stay text."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import select, update

from scoring.reports import compute_report
from storage.models import Call, Team
from tests.factories import DAY, DURING_WINDOW
from tests.factories import build_report_world as build_world
from tests.web.conftest import Browser

TEAM = '=HYPERLINK("http://x","y")'
BUSINESS = ["@SUM(A1:A9)", "+cmd|' /C calc'!A0", "-2+3", "=1+1"]


def _hostile_report(platform) -> int:
    build_world(platform)
    with platform.uow() as uow:
        s = uow.session
        team_id = s.scalar(select(Call.team_id).where(Call.team_id.is_not(None)).limit(1))
        s.execute(update(Team).where(Team.id == team_id).values(name=TEAM))
        call_ids = list(s.scalars(select(Call.id).order_by(Call.id)))
        for n, call_id in enumerate(call_ids):
            kind = BUSINESS[n % len(BUSINESS)]
            s.execute(update(Call).where(Call.id == call_id).values(business_type=kind))
        uow.commit()
    return int(compute_report(platform.uow(), "daily", DAY, now=DURING_WINDOW)["id"])


def _sup(app) -> Browser:
    b = Browser(app.test_client())
    assert b.login("sup1", "x").status_code == 303
    return b


def test_xlsx_export_keeps_hostile_names_as_text(app, platform):
    snapshot_id = _hostile_report(platform)
    r = _sup(app).get(f"/reports/{snapshot_id}/export.xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a formula cell was written"
    texts = {str(c.value) for c in cells}
    assert "'" + TEAM in texts
    assert {"'" + b for b in BUSINESS} <= texts
    for c in cells:
        if isinstance(c.value, str) and ("HYPERLINK" in c.value or c.value in BUSINESS):
            assert c.data_type == "s" and not c.value.startswith(("=", "+", "-", "@")), c.value


def test_csv_export_prefixes_formula_cells(app, platform):
    snapshot_id = _hostile_report(platform)
    r = _sup(app).get(f"/reports/{snapshot_id}/export.csv")
    assert r.status_code == 200
    cells = [v for row in csv.reader(io.StringIO(r.data.decode("utf-8-sig"))) for v in row]
    assert "'" + TEAM in cells and {"'" + b for b in BUSINESS} <= set(cells)
    risky = [v for v in cells if v.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert risky == [], risky
