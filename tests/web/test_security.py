"""Secret key handling, deny-by-default for routes without a policy, JSON errors for the API."""

from __future__ import annotations

import stat

from web import create_app
from web.security import secret_key


def test_embedded_secret_key_is_generated_once_with_mode_0600(settings):
    first = secret_key(settings)
    path = settings.home / "web_secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(settings) == first and len(first) == 64


def test_configured_secret_key_wins(settings):
    from dataclasses import replace

    assert secret_key(replace(settings, secret_key="from-env")) == "from-env"


def test_route_without_policy_is_denied(platform):
    app = create_app({"TESTING": True})

    @app.get("/forgotten")
    def forgotten() -> str:
        return "secret"

    r = app.test_client().get("/forgotten")
    assert r.status_code == 404 and b"secret" not in r.data


def test_api_errors_are_json(platform):
    app = create_app({"TESTING": True})
    c = app.test_client()
    r = c.get("/api/v1/calls/1")
    assert r.status_code == 401 and r.is_json and r.get_json()["status"] == 401
    r = c.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.is_json
    r = c.get("/nothing-here")
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)


def test_production_cookie_is_secure(platform, monkeypatch):
    from dataclasses import replace

    from qa_platform.settings import get_settings, set_settings

    set_settings(replace(get_settings(), mode="production", secret_key="k" * 32))
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 12 * 3600


def test_a_user_name_with_a_nul_character_is_a_failed_sign_in_not_a_server_error(app, world):
    """PostgreSQL refuses NUL in a string; hypothesis found the sign-in form passing one on."""
    from tests.web.conftest import Browser

    browser = Browser(app.test_client())
    browser.get("/login")
    r = browser.post("/login", {"username": "a\x00b", "password": "x"})
    assert r.status_code in (200, 400, 401) and "登录" in r.get_data(as_text=True)
