"""Out-of-range dates and numbers are refused with the field named, never a 500."""

from __future__ import annotations

import io

import pytest

from qa_platform.domain.calls import CallMetadata, MetadataError
from qa_platform.services.auth import create_token
from scoring.reports.periods import PeriodError, parse_period
from tests.factories import tone_wav
from tests.web.conftest import as_user


@pytest.mark.parametrize(
    "kind, text",
    [
        ("monthly", "9999-12"),
        ("daily", "0001-01-01"),
        ("weekly", "9999-W52"),
        ("daily", "9" * 5000),
    ],
)
def test_extreme_report_periods_are_invalid(kind, text):
    with pytest.raises(PeriodError, match="report date"):
        parse_period(kind, text)


def test_report_compute_with_extreme_dates_is_refused_not_500(app, world):
    sup = as_user(app, "sup")
    for kind, day in (("monthly", "9999-12"), ("daily", "0001-01-01")):
        r = sup.post("/reports/compute", {"kind": kind, "date": day})
        assert r.status_code == 400  # the page again, naming the field (finding 18)
        assert "报表日期（date）" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "field, value",
    [
        ("started_at", "9999-12-31T23:59:59"),
        ("started_at", "0001-01-01T00:00:00"),
        ("started_at", "2026-01-01T00:00:00" + "0" * 5000),
        ("satisfaction", "9" * 5000),
        ("satisfaction", "²"),
    ],
)
def test_metadata_extremes_are_invalid(field, value):
    with pytest.raises(MetadataError, match=field):
        CallMetadata.parse({field: value})


def test_api_upload_with_extreme_metadata_is_400(app, world, platform):
    token = create_token(platform, "sup", scopes=("read", "write"))
    h = {"Authorization": f"Bearer {token}"}
    wav = tone_wav(world.audio_path.with_name("x.wav"), 2.0, 440.0).read_bytes()
    c = app.test_client()
    for field, value in (("started_at", "9999-12-31T23:59:59"), ("satisfaction", "9" * 5000)):
        r = c.post(
            "/api/v1/calls",
            headers=h,
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(wav), "x.wav"), "agent": "A001", field: value},
        )
        assert r.status_code == 400, r.get_data(as_text=True)[:200]
        assert field in r.get_json()["error"]


def test_huge_seed_is_refused_not_500(app, world):
    sup = as_user(app, "sup")
    r = sup.post("/plans/run", {"name": "story", "seed": "9" * 5000})
    assert r.status_code == 303
    assert "seed" in sup.get("/plans").get_data(as_text=True)
