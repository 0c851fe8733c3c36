"""Secure defaults Flask lacks: secret key, session timeouts, CSRF, security headers."""

from __future__ import annotations

import hmac
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, abort, current_app, request, session

from qa_platform.settings import Settings

IDLE_TIMEOUT_S = 30 * 60
ABSOLUTE_TIMEOUT_S = 12 * 3600
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
UPLOAD_ENDPOINTS = frozenset({"api.upload", "upload.upload_file"})  # take QA_MAX_UPLOAD_BYTES
HSTS = "max-age=31536000; includeSubDomains"
CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def secret_key(settings: Settings) -> str:
    """QA_SECRET_KEY, or (embedded/test) a key generated once and kept under QA_HOME (0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.home) / "web_secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def configure(app: Flask, settings: Settings) -> None:
    """Cookie flags, upload limit and lifetimes."""
    app.config.update(
        SECRET_KEY=secret_key(settings),
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_NAME="qa_session",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=ABSOLUTE_TIMEOUT_S),
    )


def limit_body() -> None:
    """Refuse early (413) a body over ``QA_MAX_REQUEST_BYTES`` on every route but uploads.

    Checked on Content-Length before anything reads the body; bodies sent without a length
    are cut at the same limit when read.
    """
    if request.endpoint in UPLOAD_ENDPOINTS:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
    else:
        limit = current_app.extensions["qa_platform"].settings.max_request_bytes
        request.max_content_length = limit
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def start_session(user_id: int, epoch: int = 0) -> None:
    """A fresh session for a signed-in user (no fixation: old content is dropped).

    ``epoch`` is the user's session epoch: signing out anywhere bumps it, ending this session.
    """
    session.clear()
    now = int(time.time())
    session.update(uid=user_id, ep=epoch, iat=now, seen=now, csrf=secrets.token_urlsafe(32))
    session.permanent = True


def session_epoch() -> int:
    """The session epoch the cookie was issued with (0 for cookies older than epochs)."""
    return int(session.get("ep", 0))


def session_user_id() -> int | None:
    """The signed-in user id, or None when absent or past the idle/absolute timeout."""
    uid = session.get("uid")
    if uid is None:
        return None
    now = int(time.time())
    if (
        now - int(session.get("iat", 0)) > ABSOLUTE_TIMEOUT_S
        or now - int(session.get("seen", 0)) > IDLE_TIMEOUT_S
    ):
        session.clear()
        return None
    if now - int(session.get("seen", 0)) > 60:  # refresh at most once a minute
        session["seen"] = now
    return int(uid)


def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """Reject a state-changing request without the session's token (form field or header)."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description="csrf")


def security_headers(response: Response) -> Response:
    """CSP, no framing, no sniffing, no referrer leakage; no caching of personal pages."""
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        h["Cache-Control"] = "no-store"
    if current_app.config.get("SESSION_COOKIE_SECURE"):  # production: HTTPS only
        h.setdefault("Strict-Transport-Security", HSTS)
    return response
