"""A bad report kind or date on the compute form is a 400 naming the field (page re-rendered)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models_reports import ReportSnapshot
from tests.web.conftest import as_user


def _snapshots(platform) -> int:
    with platform.uow() as uow:
        return int(uow.session.scalar(select(func.count(ReportSnapshot.id))) or 0)


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"kind": "daily", "date": "0001-01-01"}, "报表日期（date）"),
        ({"kind": "daily", "date": "9999-12-31"}, "报表日期（date）"),
        ({"kind": "monthly", "date": "1970-01"}, "报表日期（date）"),
        ({"kind": "weekly", "date": "2026-13-45"}, "报表日期（date）"),
        ({"kind": "hourly", "date": "2026-03-02"}, "报表类型（kind）"),
    ],
)
def test_bad_report_period_is_400_naming_the_field(app, world, platform, form, named):
    sup = as_user(app, "sup")
    r = sup.post("/reports/compute", form)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and named in html and 'class="flash error"' in html
    assert 'action="/reports/compute"' in html  # the page itself, re-rendered
    assert _snapshots(platform) == 0
