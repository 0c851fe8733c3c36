"""Sign in and out, language choice, home page by role, health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for

from qa_platform.services.auth import (
    LoginFailed,
    LoginThrottled,
    authenticate,
    client_address,
    sign_out,
)
from web import i18n, security
from web.policy import current_user, policy, user
from web.views import platform

bp = Blueprint("auth", __name__)
HOME = {
    "inspector": "dashboard.inspector",
    "supervisor": "dashboard.supervisor",
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
    address = client_address(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        platform().settings.trusted_proxies,
    )
    try:
        u = authenticate(platform(), username, request.form.get("password") or "", address)
    except LoginThrottled:
        return render_template("auth/login.html", error=i18n.gettext("login.throttled")), 429
    except LoginFailed:
        return render_template("auth/login.html", error=i18n.gettext("login.failed")), 401
    security.start_session(u.id, u.session_epoch)
    target = request.args.get("next", "")
    safe = target.startswith("/") and not target.startswith("//")
    return redirect(target if safe else url_for(HOME[u.role]), code=303)


@bp.post("/logout")
@policy()
def logout() -> Any:
    """Sign out everywhere: the session epoch is bumped, so a saved cookie stops working."""
    sign_out(platform(), user().id)
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
        response.set_cookie(
            i18n.COOKIE,
            code,
            max_age=365 * 86400,
            samesite="Lax",
            httponly=True,
            secure=platform().settings.is_production,
        )
    return response
