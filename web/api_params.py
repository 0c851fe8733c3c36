"""Query parameters of the API's lists (``/api/v1/calls`` …): each one checked, and a bad value
is a 400 ``{"error": ...}`` that names the parameter (``FieldError``).

Cursors are opaque to clients: URL-safe base64 of a small JSON list that starts with the list's
kind (so a calls cursor is refused on the evaluations list) followed by the position of the last
row of the page already read.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import request

from web.views import FieldError

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
FIRST_YEAR, LAST_YEAR = 1970, 2100
MAX_TEXT = 100
MAX_CURSOR = 200
MAX_ID = 2**63 - 1
_INT = re.compile(r"[0-9]{1,19}")


def reject_unknown(allowed: Iterable[str]) -> None:
    """A parameter the operation does not know is a 400 (a typo never widens a result)."""
    unknown = sorted(set(request.args) - set(allowed))
    if unknown:
        raise FieldError(f"unknown parameter {unknown[0]!r}; allowed: {sorted(allowed)}")


def one(name: str) -> str | None:
    """The parameter's single value (``None`` when absent; given twice is a 400)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise FieldError(f"parameter {name!r} is given {len(values)} times; give it once")
    return values[0] if values else None


def text(name: str, max_len: int = MAX_TEXT) -> str | None:
    raw = one(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > max_len:
        raise FieldError(f"parameter {name!r} is longer than {max_len} characters")
    if any(ord(ch) < 32 for ch in raw):
        raise FieldError(f"parameter {name!r} contains control characters")
    return raw.strip()


def choice(name: str, allowed: Iterable[str]) -> str | None:
    raw = one(name)
    if raw is None or raw == "":
        return None
    options = sorted(allowed)
    if raw not in options:
        raise FieldError(f"parameter {name!r}={raw[:40]!r} must be one of {options}")
    return raw


def choices(name: str, allowed: Iterable[str]) -> list[str]:
    """A repeatable parameter (``status=a&status=b``), each value one of ``allowed``."""
    options = sorted(allowed)
    out = []
    for raw in request.args.getlist(name):
        if raw not in options:
            raise FieldError(f"parameter {name!r}={raw[:40]!r} must be one of {options}")
        out.append(raw)
    return out


def limit() -> int:
    """``limit``: 1..200 rows per page, 50 when absent."""
    raw = one("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not _INT.fullmatch(raw.strip()):
        raise FieldError(f"parameter 'limit'={raw[:40]!r} is not a whole number")
    value = int(raw)
    if not 1 <= value <= MAX_LIMIT:
        raise FieldError(f"parameter 'limit'={value} must be within 1..{MAX_LIMIT}")
    return value


def number(name: str, lo: float, hi: float) -> float | None:
    """A finite number within ``lo..hi`` (NaN, infinity and 5 000 digits are refused)."""
    raw = one(name)
    if raw is None or raw.strip() == "":
        return None
    if len(raw) > 32:
        raise FieldError(f"parameter {name!r} is longer than 32 characters")
    try:
        value = float(raw)
    except ValueError:
        raise FieldError(f"parameter {name!r}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise FieldError(f"parameter {name!r}={raw!r} is not a finite number")
    if not lo <= value <= hi:
        raise FieldError(f"parameter {name!r}={value:g} must be within {lo:g}..{hi:g}")
    return value


def number_range(lo_name: str, hi_name: str, lo: float, hi: float) -> tuple[Any, Any]:
    low, high = number(lo_name, lo, hi), number(hi_name, lo, hi)
    if low is not None and high is not None and low > high:
        raise FieldError(f"parameter {lo_name!r}={low:g} is above {hi_name!r}={high:g}")
    return low, high


def moment(name: str, tz: ZoneInfo, end: bool = False) -> datetime | None:
    """A date (``YYYY-MM-DD``, a whole day in the centre's time zone: ``end`` → the next
    midnight) or an ISO 8601 date-time (without offset: the centre's time zone), in UTC."""
    raw = one(name)
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    try:
        if len(raw) <= 10:
            day = date.fromisoformat(raw)
            at = datetime.combine(day, time(), tz)
            at = at + timedelta(days=1) if end else at
        else:
            at = datetime.fromisoformat(raw)
            at = at if at.tzinfo else at.replace(tzinfo=tz)
    except (ValueError, OverflowError):
        raise FieldError(
            f"parameter {name!r}={raw[:40]!r} is not a date (YYYY-MM-DD) or an ISO 8601 date-time"
        ) from None
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise FieldError(f"parameter {name!r}={raw[:40]!r} is outside {FIRST_YEAR}..{LAST_YEAR}")
    return at.astimezone(UTC)


def period(tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """``from`` (inclusive) and ``to`` (a date: through that day; a date-time: exclusive)."""
    start, end = moment("from", tz), moment("to", tz, end=True)
    if start is not None and end is not None and start >= end:
        raise FieldError("parameter 'from' is not before 'to'")
    return start, end


# --------------------------------------------------------------------------- cursors
def encode_cursor(kind: str, *position: Any) -> str:
    raw = json.dumps([kind, *position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(kind: str) -> list[Any] | None:
    raw = one("cursor")
    if raw is None or raw == "":
        return None
    bad = FieldError("parameter 'cursor' is malformed: pass next_cursor of the page before")
    if len(raw) > MAX_CURSOR or not re.fullmatch(r"[A-Za-z0-9_-]+", raw):
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        raise bad from None
    if not isinstance(data, list) or not data or data[0] != kind:
        raise bad
    return data[1:]


def _valid_id(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


def id_cursor(kind: str) -> int | None:
    """The last id of the page already read, from ``cursor``."""
    data = _decode(kind)
    if data is None:
        return None
    if len(data) != 1 or not _valid_id(data[0]):
        raise FieldError("parameter 'cursor' is malformed: pass next_cursor of the page before")
    return int(data[0])


def time_id_cursor(kind: str) -> tuple[datetime, int] | None:
    """The ``(started_at, id)`` of the last row of the page already read, from ``cursor``."""
    data = _decode(kind)
    if data is None:
        return None
    bad = FieldError("parameter 'cursor' is malformed: pass next_cursor of the page before")
    if len(data) != 2 or not isinstance(data[0], str) or not _valid_id(data[1]):
        raise bad
    try:
        at = datetime.fromisoformat(data[0])
    except ValueError:
        raise bad from None
    if at.tzinfo is None:
        raise bad
    return at, int(data[1])


def page(rows: list[dict[str, Any]], size: int, position: Any) -> tuple[list[Any], str | None]:
    """The first ``size`` of ``rows`` (read ``size + 1``) and the cursor after them: ``None``
    when nothing follows. ``position(row)`` gives the cursor's list."""
    if len(rows) <= size:
        return rows, None
    return rows[:size], encode_cursor(*position(rows[size - 1]))


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON: times as ISO 8601 strings."""
    return {k: v.isoformat() if isinstance(v, datetime | date) else v for k, v in row.items()}
