"""The root of every error a user can cause (bad input, unknown id, illegal action).

The CLI maps a ``QaError`` to a message and exit code 2, the web layer to an HTTP status by
``isinstance`` against the five kinds below (``web/errors.py``); anything else is a bug and
keeps its traceback. Every domain error inherits ``QaError`` and, where it has one, a kind.
"""

from __future__ import annotations


class QaError(Exception):
    """An expected, user-caused error whose message names the problem and the input."""


class NotFound(QaError, LookupError):
    """The object named does not exist (or the caller may not know it exists): HTTP 404."""


class Conflict(QaError):
    """The action clashes with the object's current state or version: HTTP 409."""


class Forbidden(QaError):
    """The caller may not do this to an object it may see: HTTP 403."""


class Throttled(QaError):
    """Too many attempts; try again later: HTTP 429."""


class Invalid(QaError, ValueError):
    """The input is malformed or out of range; the message names the field: HTTP 400."""
