"""A generated password (生成的密码) is shown exactly once, whichever process serves the admin.

The second process is a real one (a Python subprocess on the same home and database), so
nothing held in this process's memory can be what makes the test pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.web.conftest import as_user

ROOT = Path(__file__).resolve().parents[2]
SECOND_PROCESS = """
import json, os, re, sys
from web import create_app
c = create_app({"TESTING": True}).test_client()
out = {}
if os.environ.get("ADMIN_COOKIE"):
    c.set_cookie("qa_session", os.environ["ADMIN_COOKIE"], domain="localhost")
    r = c.get(os.environ["GET_URL"])
    out["get"] = [r.status_code, r.get_data(as_text=True), r.headers.getlist("Set-Cookie")]
if os.environ.get("LOGIN_PASSWORD"):
    c.get("/login")
    with c.session_transaction() as sess:
        token = sess["csrf"]
    r = c.post("/login", data={"csrf_token": token, "username": "newbie",
                               "password": os.environ["LOGIN_PASSWORD"]})
    out["login"] = r.status_code
print("RESULT" + json.dumps(out))
"""


def _other_process(settings, **env: str) -> dict:
    """Run one request in another process of the same deployment (same home and database)."""
    full = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QA_MODE": "test",
        "QA_HOME": str(settings.home),
        "QA_DATABASE_URL": settings.database_url,
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS],
        env=full,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.rsplit("RESULT", 1)[1])


def _shown(html: str) -> list[str]:
    return re.findall(r"newbie: ([^<\s]+)", html)


def test_password_shown_once_never_in_a_cookie_and_usable_from_another_process(
    app, world, platform, settings
):
    admin = as_user(app, "admin")
    r = admin.post("/admin/users", {"username": "newbie", "role": "inspector", "team": "质检组"})
    bodies, cookies = [r.get_data(as_text=True)], r.headers.getlist("Set-Cookie")
    if r.status_code == 303:  # the redirect may land on any process
        cookie = admin.client.get_cookie("qa_session").value
        status, body, set_cookies = _other_process(
            settings, ADMIN_COOKIE=cookie, GET_URL=r.headers["Location"]
        )["get"]
        assert status == 200
        bodies, cookies = [*bodies, body], [*cookies, *set_cookies]
    assert len([p for b in bodies for p in _shown(b)]) == 1, "not shown right after creating"
    (password,) = [p for b in bodies for p in _shown(b)]
    cookie = admin.client.get_cookie("qa_session").value
    later = _other_process(settings, ADMIN_COOKIE=cookie, GET_URL="/admin/users")["get"]
    again = admin.get("/admin/users")
    assert _shown(later[1]) == [] and _shown(again.get_data(as_text=True)) == []  # once only
    cookies += [*later[2], *again.headers.getlist("Set-Cookie")]
    assert len(password) >= 12 and not any(password in c for c in cookies)
    assert _other_process(settings, LOGIN_PASSWORD=password)["login"] == 303


def test_the_page_showing_the_password_is_not_cached(app, world, platform):
    admin = as_user(app, "admin")
    r = admin.post("/admin/users", {"username": "newbie", "role": "inspector"})
    page = r if r.status_code == 200 else admin.get(r.headers["Location"])
    assert _shown(page.get_data(as_text=True)) and page.headers["Cache-Control"] == "no-store"
