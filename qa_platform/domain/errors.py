"""The root of every error a user can cause (bad input, unknown id, illegal action).

The CLI maps a ``QaError`` to a message and exit code 2, the web layer to an HTTP status by
``isinstance`` against the five kinds below (``web/errors.py``); anything else is a bug and
keeps its traceback. Every domain error inherits ``QaError`` and, where it has one, a kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Self

_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class QaError(Exception):
    """An expected, user-caused error whose message names the problem and the input.

    Built with :meth:`of`, it carries a message key of ``qa_platform/data/error_messages.yaml``
    and its parameters, so that pages and commands show it in the reader's language
    (:meth:`localized`); ``str()`` is the English text. Errors raised with a plain string
    show that string in every language.
    """

    key: str | None = None
    params: Mapping[str, Any] = _NO_PARAMS

    @classmethod
    def of(cls, key: str, /, **params: Any) -> Self:
        """The error with message ``key`` (its English text as ``str()``) and ``params``."""
        from qa_platform.domain.messages import render

        error = cls(render(key, params, "en"))
        error.key, error.params = key, MappingProxyType(dict(params))
        return error

    def localized(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``); the plain text when it has no key."""
        if self.key is None:
            return str(self)
        from qa_platform.domain.messages import render

        return render(self.key, self.params, lang)


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
