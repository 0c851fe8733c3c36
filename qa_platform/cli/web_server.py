"""``qa web`` on gunicorn (生产 Web 服务器): N processes × T threads on one port.

Every process builds its own app after the fork (no preload: database pools and the broker
connection are never shared across a fork). What keeps requests consistent across processes
lives outside them: sessions are signed cookies (one ``QA_SECRET_KEY``), the login throttle
counts rows in the database. Request lines and headers are capped by gunicorn
(``limit_request_*``); bodies by the app (``MAX_CONTENT_LENGTH`` = ``QA_MAX_UPLOAD_BYTES`` on
uploads, ``QA_MAX_REQUEST_BYTES`` elsewhere), refused on Content-Length before any is read.
Prometheus samples of all processes meet in ``PROMETHEUS_MULTIPROC_DIR``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from qa_platform.settings import Settings

LIMIT_REQUEST_LINE = 8190  # bytes of "GET /path?query HTTP/1.1"
LIMIT_REQUEST_FIELDS = 100  # header count
LIMIT_REQUEST_FIELD_SIZE = 8190  # bytes of one header


class QaGunicorn(BaseApplication):
    """gunicorn's embedding API: the options below, the app built in each worker."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from web import create_app

        return create_app()


class PlatformLogger(Logger):
    """gunicorn's own lines through the platform's handler (``QA_LOG_FORMAT=json`` too)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True


def _child_exit(server: Any, worker: Any) -> None:
    """A dead worker's live gauges leave the sums (its counters stay, as Prometheus wants)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def metrics_dir(settings: Settings) -> Path:
    """``PROMETHEUS_MULTIPROC_DIR`` (the operator's, or a fresh one), emptied at start."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="qa-web-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # samples of a previous run's processes (nothing else)
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)  # before any worker imports the client
    return path


def gunicorn_options(
    settings: Settings, *, host: str, port: int, workers: int, threads: int, timeout: int
) -> dict[str, Any]:
    """The server's configuration (a plain dict: easy to assert in tests)."""
    bind_host = f"[{host}]" if ":" in host else host
    return {
        "bind": [f"{bind_host}:{port}"],
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": timeout,
        "graceful_timeout": 30,
        "keepalive": 75,  # idle keep-alive seconds: above load balancers' 60 s idle timeout
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        "preload_app": False,
        "proc_name": "qa-web",
        "accesslog": None,
        "errorlog": "-",
        "logger_class": PlatformLogger,
        "loglevel": settings.log_level.lower(),
        "child_exit": _child_exit,
    }


def serve_gunicorn(
    settings: Settings, *, host: str, port: int, workers: int, threads: int, timeout: int
) -> None:
    """Run the gunicorn master until it is stopped (SIGTERM: graceful, SIGINT: quick)."""
    metrics_dir(settings)
    options = gunicorn_options(
        settings, host=host, port=port, workers=workers, threads=threads, timeout=timeout
    )
    QaGunicorn(options).run()
