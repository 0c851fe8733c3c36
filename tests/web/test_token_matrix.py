"""The access matrix again, for API tokens instead of a signed-in session.

A token authenticates on ``/api/v1`` only: every other route answers 401 to a request that
carries one (pages and their forms never accept a token, so no form is reachable without CSRF).
On the API a token has its owner's role, as the session matrix says, and a ``read`` token may
not change anything (403); a ``write`` token may do what its owner may.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from qa_platform.services.auth import create_token
from tests.web.conftest import Browser
from tests.web.test_access_matrix import LOGINS, _expected, _objects, _request, _routes, _verdict

USERNAMES = {**LOGINS}


def _client(app: Flask, platform: Any, who: str, scopes: tuple[str, ...]) -> Browser:
    """A client that sends ``Authorization: Bearer`` on every request and never signs in."""
    token = create_token(platform, USERNAMES[who], "matrix-" + "-".join(scopes), scopes=scopes)
    test_client = app.test_client()
    test_client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Browser(test_client)


def _want(endpoint: str, method: str, who: str, scopes: tuple[str, ...]) -> str:
    if endpoint == "static":
        return "allowed"  # served before authentication; carries no data
    if endpoint == "metrics.metrics":
        return "allowed"  # the scraper's: loopback (this client) or QA_METRICS_TOKEN, no login
    if not endpoint.startswith("api."):
        return "unauthorized"
    if method != "GET" and "write" not in scopes:
        return "forbidden"
    return _expected(endpoint, who)


@pytest.mark.parametrize("scopes", [("read",), ("read", "write")], ids=["read", "write"])
@pytest.mark.parametrize("who", list(LOGINS))
def test_token_matrix(app, world, platform, who, scopes, tmp_path):
    objects = _objects(platform, world, who, tmp_path)
    client = _client(app, platform, who, scopes)
    failures = []
    for rule, method in _routes(app):
        if rule.endpoint == "auth.logout":
            continue  # ends a session; a token request has none (checked as 401 below)
        resp = _request(client, rule, method, objects)
        want = _want(rule.endpoint, method, who, scopes)
        ok = (
            resp.status_code == 401
            if want == "unauthorized"
            else _verdict(rule.endpoint, resp, [], want)
        )
        if not ok:
            failures.append((method, rule.rule, resp.status_code, want))
    assert failures == [], "\n".join(map(str, failures))


def test_a_token_on_a_page_form_is_refused_before_anything_changes(app, world, platform):
    client = _client(app, platform, "admin", ("read", "write"))
    resp = client.post("/admin/calls/hold", {"call_id": world.call_id, "hold": "1", "reason": "x"})
    assert resp.status_code == 401
    from qa_platform.queries.calls import show_call

    assert show_call(platform, world.call_id)["retention"]["legal_hold"] is False
