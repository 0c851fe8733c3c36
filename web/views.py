"""Helpers every blueprint uses: the platform, form parsing, act-then-redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, flash, redirect, request
from werkzeug.wrappers import Response

from qa_platform.domain.errors import Invalid, QaError
from qa_platform.services.context import Platform


def platform() -> Platform:
    return current_app.extensions["qa_platform"]


def form_int(name: str) -> int:
    """A required integer form field; a clear 400 when missing or not a number."""
    raw = (request.form.get(name) or "").strip()
    return whole_number(raw, name)


_MAX_DIGITS = 19  # 2**63 has 19 digits; longer text is refused before int() sees it


def whole_number(raw: str, name: str, minimum: int = -(2**63)) -> int:
    """A whole number that fits a 64-bit database column; the 400 names the field."""
    raw = raw.strip()
    digits = raw[1:] if raw.startswith("-") else raw
    if not digits.isascii() or not digits.isdigit():
        raise FieldError.of("form.whole_number", field=repr(name), raw=repr(raw[:40]))
    if len(digits) > _MAX_DIGITS or not minimum <= int(raw) < 2**63:
        raise FieldError.of("form.out_of_range", field=repr(name), raw=repr(raw[:40]))
    return int(raw)


def form_text(name: str, required: bool = True) -> str:
    value = (request.form.get(name) or "").strip()
    if required and not value:
        raise FieldError.of("form.required", field=repr(name))
    return value


class FieldError(Invalid):
    """A form or query field is missing or malformed."""


def act(fn: Callable[[], Any], back: str, ok: str = "msg.saved") -> Response:
    """Run a state change; flash its error (nothing saved) or ``ok``; redirect to ``back``."""
    from web.errors import status_of, user_message
    from web.i18n import gettext

    try:
        fn()
    except QaError as exc:
        flash(user_message(exc, status_of(exc)), "error")
        return redirect(back, code=303)
    flash(gettext(ok), "ok")
    return redirect(back, code=303)
