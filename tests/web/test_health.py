"""Liveness and readiness through the real app: ``/readyz`` asks the real database, broker
(RabbitMQ here) and blob store, and names what is down with a 503."""

from __future__ import annotations

import socket
from dataclasses import replace

from flask import Flask

from qa_platform.services.context import Platform
from tests.helpers.platforms import make_platform
from tests.helpers.rabbitmq import temporary_vhost
from web import create_app


def _app(platform: Platform) -> Flask:
    app = create_app({"TESTING": True})
    app.extensions["qa_platform"] = platform
    return app


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_answers_without_the_database(platform: Platform) -> None:
    broken = make_platform(
        replace(platform.settings, database_url="postgresql+psycopg://x@127.0.0.1:1/none")
    )
    r = _app(broken).test_client().get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"ok": True}


def test_readyz_is_ready_when_database_broker_and_blobs_answer(platform: Platform) -> None:
    with temporary_vhost("qa_readyz") as url:
        plat = make_platform(replace(platform.settings, broker_url=url))
        r = _app(plat).test_client().get("/readyz")
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["ready"] is True and body["down"] == []
    assert {k: v["status"] for k, v in body["checks"].items()} == {
        "database": "ok",
        "broker": "ok",
        "blob_store": "ok",
    }
    assert r.headers["Cache-Control"] == "no-store"


def test_readyz_without_a_broker_says_it_is_not_used(platform: Platform) -> None:
    body = _app(platform).test_client().get("/readyz").get_json()
    assert body["ready"] is True and body["checks"]["broker"]["status"] == "not used"


def test_readyz_names_a_broker_that_is_down(platform: Platform) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{_closed_port()}//"
    r = _app(make_platform(replace(platform.settings, broker_url=url))).test_client().get("/readyz")
    body = r.get_json()
    assert r.status_code == 503
    assert body["down"] == ["broker"]
    assert "refused" in body["checks"]["broker"]["detail"]
    assert "guest:guest" not in r.get_data(as_text=True)  # never the password


def test_readyz_names_a_database_and_a_blob_store_that_are_down(
    platform: Platform, tmp_path
) -> None:
    settings = replace(
        platform.settings,
        database_url=f"postgresql+psycopg://qa@127.0.0.1:{_closed_port()}/none",
        blob_dir=str(tmp_path / "gone"),
    )
    r = _app(make_platform(settings)).test_client().get("/readyz")
    body = r.get_json()
    assert r.status_code == 503
    assert body["down"] == ["database", "blob_store"]
    assert body["checks"]["broker"]["status"] == "not used"
    assert "gone" in body["checks"]["blob_store"]["detail"]


def test_readyz_hides_details_from_a_remote_anonymous_caller(platform: Platform, tmp_path) -> None:
    settings = replace(platform.settings, blob_dir=str(tmp_path / "gone"))
    client = _app(make_platform(settings)).test_client()
    r = client.get("/readyz", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    body = r.get_json()
    assert r.status_code == 503 and body["down"] == ["blob_store"]
    assert "detail" not in body["checks"]["blob_store"]


def test_static_files_are_cached_and_pages_are_not(platform: Platform) -> None:
    client = _app(platform).test_client()
    css = client.get("/static/app.css")
    assert css.status_code == 200
    assert "max-age=3600" in css.headers["Cache-Control"]
    assert "public" in css.headers["Cache-Control"]
    assert css.headers.get("ETag")
    again = client.get("/static/app.css", headers={"If-None-Match": css.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/login").headers["Cache-Control"] == "no-store"
