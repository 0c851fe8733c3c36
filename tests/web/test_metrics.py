"""``/metrics`` through the real app: Prometheus text, latency by URL rule, jobs from the
real jobs table, and nothing for an anonymous caller on a public address."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from qa_platform.domain.pipeline import PIPELINE_VERSION
from qa_platform.services import pipeline as ps
from qa_platform.services.context import Platform
from storage.models import Job
from tests.helpers.pipeline import demo_stereo_wav, ingest
from tests.helpers.platforms import make_platform
from web import create_app
from workers import jobs

TOKEN = "m" * 24
REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def _app(platform: Platform) -> Flask:
    app = create_app({"TESTING": True})
    app.extensions["qa_platform"] = platform
    return app


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_time_requests_by_url_rule_not_raw_path(platform: Platform) -> None:
    client = _app(platform).test_client()
    login = (
        "qa_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/login"), ("status", "200")),
    )
    call = (
        "qa_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/calls/<int:call_id>"), ("status", "302")),
    )
    before = _samples(client.get("/metrics").get_data(as_text=True))  # the process's counts
    client.get("/login")
    client.get("/calls/987654321")  # anonymous: sent to the sign-in page
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    samples = _samples(text)
    assert samples[login] == before.get(login, 0.0) + 1
    assert samples[call] == before.get(call, 0.0) + 1
    assert "987654321" not in text


def test_metrics_count_unfinished_jobs_and_dead_letters_per_stage(
    platform: Platform, tmp_path: Path
) -> None:
    first = ingest(platform, demo_stereo_wav(tmp_path, seconds=2))
    second = ingest(platform, demo_stereo_wav(tmp_path, seconds=3))
    with platform.uow() as uow:
        now = jobs.utcnow()
        for call_id in (first, second):
            ps.ensure_jobs(uow.session, call_id, PIPELINE_VERSION, now)
        uow.session.execute(
            update(Job)
            .where(Job.call_id == second, Job.stage == "features")
            .values(status="dead_letter", attempts=3)
        )
        uow.session.execute(
            update(Job)
            .where(Job.call_id == first, Job.stage == "features")
            .values(status="running", attempts=2)
        )
        uow.commit()
    samples = _samples(_app(platform).test_client().get("/metrics").get_data(as_text=True))
    assert samples[("qa_jobs", (("stage", "features"), ("status", "running")))] == 1.0
    assert samples[("qa_jobs", (("stage", "features"), ("status", "queued")))] == 0.0
    assert samples[("qa_jobs", (("stage", "transcribe"), ("status", "queued")))] == 2.0
    assert samples[("qa_dead_letters", (("stage", "features"),))] == 1.0
    assert samples[("qa_dead_letters", (("stage", "flags"),))] == 0.0
    assert samples[("qa_job_attempts_max", (("stage", "features"),))] == 2.0


def test_metrics_are_not_shown_to_a_remote_anonymous_caller(platform: Platform) -> None:
    client = _app(platform).test_client()
    r = client.get("/metrics", environ_base=REMOTE)
    assert r.status_code == 404
    assert "qa_" not in r.get_data(as_text=True)


def test_with_a_token_only_the_bearer_sees_metrics(platform: Platform) -> None:
    plat = make_platform(replace(platform.settings, metrics_token=TOKEN))
    client = _app(plat).test_client()
    assert client.get("/metrics").status_code == 404  # loopback is not enough any more
    wrong = {"Authorization": "Bearer " + "x" * 24}
    assert client.get("/metrics", headers=wrong, environ_base=REMOTE).status_code == 404
    good = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, environ_base=REMOTE)
    assert good.status_code == 200
    assert "qa_jobs" in good.get_data(as_text=True)
