"""Errors: JSON for ``/api/*``, friendly pages otherwise; domain errors map to 4xx."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, render_template
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from qa_platform.domain.errors import Conflict, Forbidden, NotFound, QaError, Throttled
from web.i18n import current_lang, gettext
from web.policy import is_api, json_error
from web.ranges import RangeNotSatisfiable

MESSAGES = {
    400: "error.bad_request",
    401: "error.unauthorized",
    403: "error.forbidden",
    404: "error.not_found",
    405: "error.method",
    409: "error.conflict",
    413: "error.too_large",
    416: "error.range",
    429: "error.too_many",
}


STATUS_OF_KIND: tuple[tuple[type[QaError], int], ...] = (
    (RangeNotSatisfiable, 416),
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (Throttled, 429),
)


def status_of(exc: QaError) -> int:
    """HTTP status of a domain error by its kind (``qa_platform.domain.errors``); else 400."""
    return next((status for kind, status in STATUS_OF_KIND if isinstance(exc, kind)), 400)


def _page(status: int, message: str) -> Any:
    return render_template("error.html", status=status, message=message), status


def handle_http(exc: HTTPException) -> Any:
    status = exc.code or 500
    if isinstance(exc, RequestEntityTooLarge):
        message = "upload is larger than the limit (QA_MAX_UPLOAD_BYTES)"
    elif exc.description == "csrf":
        message = "missing or wrong CSRF token; reload the page and try again"
    else:
        message = (exc.description or "") if status in (400, 401, 409, 416) else ""
    if is_api():
        return json_error(status, message or exc.name)
    return _page(
        status,
        gettext(MESSAGES.get(status, "error.generic"))
        + (f" ({message})" if message and status != 404 else ""),
    )


def handle_domain(exc: QaError) -> Any:
    status = status_of(exc)
    response = current_app.make_response(
        json_error(status, str(exc)) if is_api() else _page(status, user_message(exc, status))
    )
    if isinstance(exc, RangeNotSatisfiable) and exc.total is not None:
        response.headers["Content-Range"] = f"bytes */{exc.total}"
    return response


def user_message(exc: QaError, status: int) -> str:
    """The error in the reader's language; a message that exists only in English (an error
    raised with a plain string) is introduced by the Chinese headline of its status."""
    lang = current_lang()
    text = exc.localized(lang)
    if lang == "zh" and not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return f"{gettext(MESSAGES.get(status, 'error.generic'))}（{text}）"
    return text


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(QaError, handle_domain)


def _dt(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_centre_tz()).strftime("%Y-%m-%d %H:%M")


def _centre_tz() -> ZoneInfo:
    """Times are shown in the centre's time zone (default Asia/Shanghai)."""
    return ZoneInfo(current_app.extensions["qa_platform"].settings.centre_timezone)


def _clock(seconds: Any) -> str:
    s = int(float(seconds or 0))
    return f"{s // 60:02d}:{s % 60:02d}"


FILTERS = {"dt": _dt, "clock": _clock}
