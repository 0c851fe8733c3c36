"""Findings of the loopback attack: sessions end at sign-out, tokens are scoped and API-only,
sign-in is throttled atomically and costs the same for unknown users, bodies are capped early,
admins cannot lock themselves out, generated passwords never travel in the cookie."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qa_platform.domain.calls import CallMetadata
from qa_platform.services import auth as auth_service
from qa_platform.services.auth import (
    LoginFailed,
    LoginThrottled,
    authenticate,
    create_token,
    token_identity,
)
from qa_platform.services.ingest import ingest_file
from qa_platform.services.users import UserError, add_user, set_password, update_user
from storage.models import Call
from storage.models_web import ApiToken
from tests.helpers.files import make_audio
from tests.web.conftest import Browser, as_user

PW = "pw-" + "secret1"


@pytest.fixture
def people(platform) -> dict[str, int]:
    return {
        name: add_user(platform, name, role, team=team, password=PW).id
        for name, role, team in [
            ("admin", "admin", None),
            ("insp", "inspector", "质检组"),
            ("sup", "supervisor", None),
        ]
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# 4. sign-out ends the session on the server side ------------------------------------------
def test_saved_cookie_stops_working_after_logout(app, people):
    b = as_user(app, "insp")
    saved = b.client.get_cookie("qa_session").value
    assert b.get("/calls").status_code == 200
    b.post("/logout")
    thief = app.test_client()
    thief.set_cookie("qa_session", saved)
    r = thief.get("/calls")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_password_change_and_deactivation_end_sessions(app, platform, people):
    first, second = as_user(app, "insp"), as_user(app, "sup")
    set_password(platform, people["insp"], "another-good-pw", "user:1")
    assert first.get("/calls").status_code == 302
    update_user(platform, people["sup"], "user:1", active=False)
    assert second.get("/calls").status_code == 302
    assert as_user(app, "admin").get("/calls").status_code == 200  # others keep theirs


# 6. API tokens: /api/v1 only, scoped, expiring, revocable --------------------------------
def test_token_does_not_work_on_html_form_routes(app, platform, people, tmp_path):
    call_id = ingest_file(platform, make_audio(tmp_path / "a.wav"), CallMetadata()).call_id
    token = create_token(platform, "admin", "ops", scopes=("read", "write"))
    r = app.test_client().post(
        "/admin/calls/hold", headers=_bearer(token), data={"call_id": call_id, "hold": "1"}
    )
    assert r.status_code == 401
    with platform.uow() as uow:
        assert uow.session.get(Call, call_id).legal_hold is False


def test_read_token_cannot_write_and_write_token_can(app, platform, people):
    c = app.test_client()
    read = create_token(platform, "sup", "reader")
    r = c.post("/api/v1/calls", headers=_bearer(read), data={})
    assert r.status_code == 403 and "write" in r.get_json()["error"]
    write = create_token(platform, "sup", "writer", scopes=("read", "write"))
    r = c.post("/api/v1/calls", headers=_bearer(write), data={})
    assert r.status_code == 400 and "'file'" in r.get_json()["error"]  # got past auth


def test_token_expires(app, platform, people):
    from datetime import timedelta

    token = create_token(platform, "sup", "short", days=1)
    later = platform.clock.now() + timedelta(days=1, seconds=1)
    with pytest.raises(auth_service.TokenInvalid):
        token_identity(platform, token, now=later)
    assert app.test_client().get("/api/v1/appeals", headers=_bearer(token)).status_code == 200


def test_cli_revokes_one_token_or_all(app, platform, people):
    from qa_platform.cli.web import token_command

    a, b = create_token(platform, "sup", "a"), create_token(platform, "sup", "b")
    c = app.test_client()
    result = CliRunner().invoke(token_command, ["sup", "--revoke", "a"])
    assert result.exit_code == 0, result.output
    assert c.get("/api/v1/appeals", headers=_bearer(a)).status_code == 401
    assert c.get("/api/v1/appeals", headers=_bearer(b)).status_code == 200
    assert CliRunner().invoke(token_command, ["sup", "--revoke-all"]).exit_code == 0
    assert c.get("/api/v1/appeals", headers=_bearer(b)).status_code == 401
    missing = CliRunner().invoke(token_command, ["sup", "--revoke", "nope"])
    assert missing.exit_code != 0 and "no live token named 'nope'" in str(missing.exception)


def test_cli_token_scope_and_days(platform, people):
    import json

    from qa_platform.cli.web import token_command

    out = CliRunner().invoke(
        token_command,
        ["sup", "--name", "ci", "--scope", "write", "--scope", "read", "--days", "7", "--json"],
    )
    assert out.exit_code == 0, out.output
    ident = token_identity(platform, json.loads(out.output)["token"])
    assert ident.scopes == {"read", "write"}
    with platform.uow() as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.name == "ci"))
        assert 6.9 < (row.expires_at - row.created_at).total_seconds() / 86400 < 7.1


def test_last_use_is_recorded_at_most_once_a_minute(platform, people):
    from datetime import timedelta

    token = create_token(platform, "sup", "t")
    now = platform.clock.now()
    token_identity(platform, token, now=now)
    token_identity(platform, token, now=now + timedelta(seconds=30))

    def last_used():
        with platform.uow() as uow:
            return uow.session.scalar(select(ApiToken.last_used_at))

    assert last_used() == now
    token_identity(platform, token, now=now + timedelta(seconds=61))
    assert last_used() == now + timedelta(seconds=61)


# 5. no user enumeration by timing ---------------------------------------------------------
def test_unknown_and_inactive_users_cost_one_password_verification(platform, people, monkeypatch):
    calls: list[str] = []
    real = auth_service.verify_password

    def counting(stored, password):
        calls.append(stored or "")
        return real(stored, password)

    monkeypatch.setattr(auth_service, "verify_password", counting)
    with pytest.raises(LoginFailed):
        authenticate(platform, "nobody-here", "whatever-pw", "10.0.0.1")
    assert len(calls) == 1 and calls[0].startswith("$argon2")
    update_user(platform, people["sup"], "user:1", active=False)
    with pytest.raises(LoginFailed):
        authenticate(platform, "sup", PW, "10.0.0.2")
    assert len(calls) == 2 and calls[1].startswith("$argon2")


# 7. throttling per account and per address, atomic, proxies configured -------------------
def test_concurrent_wrong_passwords_check_at_most_five(platform, people, monkeypatch):
    checked: list[int] = []
    real = auth_service.verify_password
    monkeypatch.setattr(
        auth_service, "verify_password", lambda s, p: checked.append(1) or real(s, p)
    )
    barrier, outcomes = threading.Barrier(20), []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            authenticate(platform, "insp", "wrong-password", f"10.1.0.{i}")
        except (LoginFailed, LoginThrottled) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 20
    assert outcomes.count("LoginFailed") <= 5 and len(checked) <= 5
    assert outcomes.count("LoginThrottled") >= 15


def test_account_throttle_holds_across_addresses(platform, people):
    for i in range(5):
        with pytest.raises(LoginFailed):
            authenticate(platform, "insp", "wrong-password", f"10.2.0.{i}")
    with pytest.raises(LoginThrottled):
        authenticate(platform, "INSP", PW, "10.2.0.99")


def test_address_throttle_holds_across_accounts(platform, people):
    for i in range(20):
        with pytest.raises(LoginFailed):
            authenticate(platform, f"guess{i}", "wrong-password", "10.3.0.1")
    with pytest.raises(LoginThrottled):
        authenticate(platform, "sup", PW, "10.3.0.1")
    assert authenticate(platform, "sup", PW, "10.3.0.2").username == "sup"


def test_throttle_backs_off(platform, people):
    from datetime import timedelta

    start = platform.clock.now()
    for minutes in (0, 6, 12):  # five guesses each time the first window has passed
        for _ in range(5):
            with pytest.raises(LoginFailed):
                authenticate(
                    platform,
                    "insp",
                    "wrong-password",
                    "10.4.0.1",
                    now=start + timedelta(minutes=minutes),
                )
    later = start + timedelta(minutes=18)  # none in 5 min, but 15 in the last 20: locked
    with pytest.raises(LoginThrottled):
        authenticate(platform, "insp", PW, "10.4.0.1", now=later)
    after = start + timedelta(minutes=40)
    assert authenticate(platform, "insp", PW, "10.4.0.1", now=after).username == "insp"


def test_forwarded_for_counts_only_from_trusted_proxies(app, platform, people):
    from dataclasses import replace

    def guess(forwarded: str) -> int:
        b = Browser(app.test_client())
        b.client.get("/login")
        return b.post(
            "/login",
            {"username": f"nobody{forwarded}", "password": "wrong-password"},
            headers={"X-Forwarded-For": forwarded},
        ).status_code

    codes = [guess(f"10.5.0.{i}") for i in range(21)]  # untrusted: one address, 127.0.0.1
    assert codes[:20] == [401] * 20 and codes[20] == 429
    platform.settings = replace(platform.settings, trusted_proxies=("127.0.0.1",))
    assert guess("10.5.0.77") == 401  # the proxy's word is taken: a fresh address


# 3. bodies capped early -------------------------------------------------------------------
class _CountingBody(io.RawIOBase):
    """A request body of ``size`` bytes that counts what the app reads and fails past ``cap``."""

    def __init__(self, size: int, cap: int) -> None:
        self.size, self.cap, self.consumed = size, cap, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.consumed)
        self.consumed += n
        if self.consumed > self.cap:
            raise AssertionError(f"the app read {self.consumed} bytes of a refused body")
        buffer[:n] = b"{" * n
        return n


def _post_counting(
    app, path: str, content_type: str, size: int, length: bool = True, cap: int | None = None
):
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    limit = app.extensions["qa_platform"].settings.max_request_bytes
    body = _CountingBody(size, cap=limit if cap is None else cap)
    headers = {"Content-Type": content_type}
    environ = EnvironBuilder(path=path, method="POST", headers=headers).get_environ()
    environ["wsgi.input"] = body
    if length:
        environ["CONTENT_LENGTH"] = str(size)
    else:  # chunked: no length, the server marks the stream as terminated
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    _, status, _ = run_wsgi_app(app, environ, buffered=True)  # the WSGI app, as a server runs it
    return int(status.split()[0]), body, limit


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/login", "application/json"),
        ("/calibration", "application/octet-stream"),
        ("/evaluations/1/review", "application/json"),
    ],
)
def test_large_body_on_a_non_upload_route_is_413(app, people, path, content_type):
    """Over ``QA_MAX_REQUEST_BYTES`` (well under the upload limit and Werkzeug's form limit
    would not apply to these bodies): 413 before a byte of the body is read."""
    limit = app.extensions["qa_platform"].settings.max_request_bytes
    assert limit < app.config["MAX_CONTENT_LENGTH"]
    status, body, _ = _post_counting(app, path, content_type, limit + 1)
    assert status == 413 and body.consumed == 0


def test_api_upload_over_its_limit_is_413_unread(app, people):
    """The API's upload route has the larger upload limit; over it, 413 before reading."""
    upload_limit = app.config["MAX_CONTENT_LENGTH"]
    status, body, _ = _post_counting(
        app, "/api/v1/calls", "multipart/form-data; boundary=x", upload_limit + 1, cap=0
    )
    assert status == 413 and body.consumed == 0


def test_large_body_without_a_length_is_cut_at_the_limit(app, people):
    size = app.extensions["qa_platform"].settings.max_request_bytes * 3
    status, body, limit = _post_counting(app, "/login", "application/octet-stream", size, False)
    assert status in (400, 413) and body.consumed <= limit


def test_waitress_caps_bodies_at_the_upload_limit(platform, monkeypatch):
    import waitress

    from qa_platform.cli.web import web_command

    seen: dict[str, object] = {}
    monkeypatch.setattr(waitress, "serve", lambda app, **kw: seen.update(kw))
    result = CliRunner().invoke(web_command, [])
    assert result.exit_code == 0, result.output
    assert seen["max_request_body_size"] == platform.settings.max_upload_bytes


# 8. users ---------------------------------------------------------------------------------
def test_last_active_admin_cannot_be_removed(platform, people):
    with pytest.raises(UserError, match="last active admin"):
        update_user(platform, people["admin"], "user:1", active=False)
    with pytest.raises(UserError, match="last active admin"):
        update_user(platform, people["admin"], "user:1", role="supervisor")
    second = add_user(platform, "admin2", "admin", password=PW).id
    update_user(platform, people["admin"], f"user:{second}", active=False)  # now allowed


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("1", "at least 10"),
        ("1234567890123", "only digits"),
        ("newperson1", "username"),
    ],
)
def test_password_policy(platform, password, why):
    with pytest.raises(UserError, match=why):
        add_user(platform, "newperson1", "inspector", password=password)


def test_user_names_ignore_case(platform, people):
    with pytest.raises(UserError, match="already exists"):
        add_user(platform, "Admin", "admin", password=PW)
    assert authenticate(platform, "ADMIN", PW, "10.6.0.1").username == "admin"


def test_generated_password_never_travels_in_the_cookie(app, people):
    admin = as_user(app, "admin")
    r = admin.post("/admin/users", {"username": "newbie", "role": "inspector"})
    with admin.client.session_transaction() as sess:
        stored = repr(dict(sess)) + repr(r.headers.getlist("Set-Cookie"))
    html = r.get_data(as_text=True)  # shown on the page answering the POST, no redirect
    shown = html.split("newbie: ", 1)[1].split("<", 1)[0]
    assert len(shown) >= 12 and shown not in stored
    assert "newbie: " not in admin.get("/admin/users").get_data(as_text=True)  # once only


def test_embedded_database_file_is_owner_only(tmp_path: Path):
    import stat

    from qa_platform.services.bootstrap import initialise
    from qa_platform.services.context import Platform
    from qa_platform.settings import Settings

    settings = Settings(home=tmp_path / "home", mode="test")
    initialise(Platform(settings))
    mode = stat.S_IMODE((tmp_path / "home" / "qa.sqlite3").stat().st_mode)
    assert mode == 0o600


def test_production_sends_hsts_and_a_secure_language_cookie(platform):
    from dataclasses import replace

    from qa_platform.settings import get_settings, set_settings
    from web import create_app

    set_settings(replace(get_settings(), mode="production", secret_key="k" * 32))
    app = create_app()
    c = app.test_client()
    assert "max-age=" in c.get("/healthz").headers["Strict-Transport-Security"]
    cookie = c.get("/lang/en").headers["Set-Cookie"]
    assert "qa_lang=en" in cookie and "Secure" in cookie
