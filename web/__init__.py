"""The web application (质检工作台): app factory; nothing happens at import time."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

STATIC_MAX_AGE_S = 3600


class DatabaseId(IntegerConverter):
    """``<int:...>`` in URLs: a whole number a 64-bit id column holds, else no route (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON with NaN and infinity refused: a stray non-finite number is a clear error
    (a 500 with a traceback), never a body that JSON parsers reject."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from ``qa_platform.settings`` (``config`` overrides Flask keys).

    The web node's composition root: one ``Platform``. Pages never run speech work; with a
    broker configured an upload sends its call's first stage after commit (``web.dispatch``),
    in the embedded default ``qa process`` picks it up from the database.
    """
    from qa_platform import logs
    from qa_platform.services.context import Platform
    from qa_platform.settings import get_settings
    from web import errors, i18n, policy, security
    from web.dispatch import upload_dispatch

    settings = get_settings()
    logs.configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    app.json = StrictJSONProvider(app)
    app.url_map.converters["int"] = DatabaseId  # /calls/<int:call_id>: 404 past 64 bits
    security.configure(app, settings)
    app.config.update(config or {})
    app.extensions["qa_platform"] = Platform(settings, dispatch=upload_dispatch(settings))
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
    for blueprint, prefix in _blueprints():
        app.register_blueprint(blueprint, url_prefix=prefix)
    _production_serving(app)
    app.jinja_env.globals["url_endpoints"] = frozenset(app.view_functions)
    return app


def _production_serving(app: Flask) -> None:
    """Readiness, metrics and request timing (docs/deploy.md "Web server", "Metrics")."""
    from web import health, metrics

    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    metrics.instrument(app)
    if app.config.get("SEND_FILE_MAX_AGE_DEFAULT") is None:  # static files: cached an hour,
        app.config["SEND_FILE_MAX_AGE_DEFAULT"] = STATIC_MAX_AGE_S  # then revalidated (ETag)


def _blueprints() -> list[tuple[Any, str | None]]:
    from web import (
        admin,
        agent,
        api,
        auth,
        calibration,
        calls,
        coaching,
        complaints,
        dashboard,
        inspector,
        pipeline_pages,
        reports,
        supervisor,
        upload_pages,
    )

    modules = (auth, inspector, supervisor, agent, admin, calls, api, complaints, dashboard)
    more = (calibration, coaching, upload_pages, pipeline_pages)
    return [(m.bp, None) for m in (*modules, *more)] + [(reports.bp, "/reports")]
