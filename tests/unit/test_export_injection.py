"""Report exports never carry a live formula: text cells that a spreadsheet would run are
quoted (OWASP CSV injection), in CSV and in XLSX."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from scoring.reports.export import safe_cell, to_csv, to_xlsx

EVIL = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1", "-2+3", "\tcmd", "\r=1"]


def _payload():
    return {
        "teams": [{"name": EVIL[0], "calls_received": 3, "flagged_rate": 0.5}],
        "business_types": [{"name": n, "calls_received": 1} for n in EVIL[1:]],
        "agents": [{"name": "A001", "team": "=1+2", "calls_received": 2}],
    }


@pytest.mark.parametrize("text", EVIL)
def test_safe_cell_quotes_formula_triggers(text):
    assert safe_cell(text) == "'" + text
    assert safe_cell("班组一") == "班组一" and safe_cell(-3) == -3 and safe_cell(None) is None


def test_csv_has_no_cell_starting_with_a_trigger():
    text = to_csv(_payload()).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert "'" + EVIL[0] in cells and "'=1+2" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]


def test_xlsx_writes_text_never_formulas():
    wb = load_workbook(io.BytesIO(to_xlsx(_payload())))
    values = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in values if c.data_type == "f"]
    texts = {c.value for c in values if isinstance(c.value, str)}
    assert "'" + EVIL[0] in texts and "'=1+2" in texts
