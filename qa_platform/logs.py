"""Logging for every entry point: one configuration, with the ids of what is being worked on.

Each line carries ``call_id``, ``job_id``, ``task_id`` and ``user_id`` when they are known; the
entry points set them (``log_context``) — the CLI per command, the web app per request, the
Celery worker per task — so a line deep in a service still says which call it was about.
``QA_LOG_FORMAT=json`` writes one JSON object per line (for log shippers); the default is text.
Every JSON line carries all four ids (``null`` when not known), so a shipper's schema is fixed
and a query such as ``call_id = 42`` finds the web request, the worker task and the CLI command.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CONTEXT_KEYS = ("call_id", "job_id", "task_id", "user_id")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("qa_log_context")
_HANDLER_NAME = "qa-platform"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(context)s%(message)s"


def current_context() -> dict[str, Any]:
    """The ids attached to log lines in this thread/task right now."""
    return dict(_context.get({}))


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Attach ids (``call_id=…``, ``user_id=…``) to every line logged inside the block."""
    token = _context.set(current_context() | {k: v for k, v in ids.items() if v is not None})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**ids: Any) -> None:
    """Attach ids until the context ends (a web request, a Celery task)."""
    _context.set(current_context() | {k: v for k, v in ids.items() if v is not None})


def clear() -> None:
    _context.set({})


class ContextFilter(logging.Filter):
    """Copies the current ids onto each record (``record.call_id`` …, ``record.context``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = current_context()
        for key in CONTEXT_KEYS:
            setattr(record, key, ids.get(key))
        record.context = "".join(f"[{k}={ids[k]}] " for k in CONTEXT_KEYS if k in ids)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, process, the four ids (always
    present, ``null`` when unknown), and the exception."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        data |= {k: getattr(record, k, None) for k in CONTEXT_KEYS}
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", fmt: str = "text", stream: Any = None) -> None:
    """Install the platform's handler on the root logger once (idempotent per process)."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format {fmt!r} must be text or json")
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
