"""The web application (质检工作台): app factory; nothing happens at import time."""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from ``qa_platform.settings`` (``config`` overrides Flask keys)."""
    from qa_platform.services.context import Platform
    from qa_platform.settings import get_settings
    from web import errors, i18n, policy, security

    settings = get_settings()
    app = Flask(__name__)
    security.configure(app, settings)
    app.config.update(config or {})
    app.extensions["qa_platform"] = Platform(settings)
    app.before_request(policy.enforce)
    app.after_request(security.security_headers)
    errors.register(app)
    app.jinja_env.globals.update(
        _=i18n.gettext,
        flag_evidence=i18n.flag_evidence,
        csrf_token=security.csrf_token,
        current_user=policy.current_user,
        lang=i18n.current_lang,
    )
    app.jinja_env.filters.update(errors.FILTERS)
    _register_blueprints(app)
    app.jinja_env.globals["url_endpoints"] = frozenset(app.view_functions)
    return app


BLUEPRINTS = (
    "web.auth",
    "web.inspector",
    "web.supervisor",
    "web.agent",
    "web.admin",
    "web.calls",
    "web.api",
)


def _register_blueprints(app: Flask) -> None:
    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)
    try:
        reports = importlib.import_module("web.reports")
    except ModuleNotFoundError as exc:
        if exc.name not in ("web.reports",):
            raise
        return
    app.register_blueprint(reports.bp, url_prefix="/reports")
