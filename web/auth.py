"""Sign in and out, language choice, home page by role, health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for

from qa_platform.services.auth import LoginFailed, LoginThrottled, authenticate
from web import i18n, security
from web.policy import current_user, policy
from web.views import platform

bp = Blueprint("auth", __name__)
HOME = {
    "inspector": "inspector.queue",
    "supervisor": "supervisor.review",
    "agent": "agent.results",
    "admin": "admin.users_page",
}


@bp.get("/healthz")
@policy(public=True)
def healthz() -> Any:
    """Static baseline endpoint (no database)."""
    return jsonify({"ok": True})


@bp.get("/")
@policy(public=True)
def home() -> Any:
    u = current_user()
    return redirect(url_for(HOME[u.role]) if u else url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@policy(public=True)
def login() -> Any:
    if request.method == "GET":
        return render_template("auth/login.html", error=None)
    username = (request.form.get("username") or "").strip()
    try:
        u = authenticate(
            platform(), username, request.form.get("password") or "", request.remote_addr or "?"
        )
    except LoginThrottled:
        return render_template("auth/login.html", error=i18n.gettext("login.throttled")), 429
    except LoginFailed:
        return render_template("auth/login.html", error=i18n.gettext("login.failed")), 401
    security.start_session(u.id)
    target = request.args.get("next", "")
    safe = target.startswith("/") and not target.startswith("//")
    return redirect(target if safe else url_for(HOME[u.role]), code=303)


@bp.post("/logout")
@policy()
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.get("/lang/<code>")
@policy(public=True)
def set_lang(code: str) -> Any:
    """Switch the interface language (cookie); back to the page the user was on."""
    back = (
        request.referrer
        if request.referrer and request.referrer.startswith(request.host_url)
        else "/"
    )
    response = redirect(back)
    if code in i18n.LANGS:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
