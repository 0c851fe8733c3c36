"""``qa web --workers 2`` as a real gunicorn server (a subprocess on a free port): liveness,
readiness, a session and the login throttle that hold across processes, request caps, and
``/metrics`` summing every process.

Each HTTP connection is kept alive, so it stays with one process; ``/readyz`` says which
(``pid``), and the test opens connections until it holds one to each of the two processes.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from prometheus_client.parser import text_string_to_metric_families

from qa_platform.services.context import Platform
from qa_platform.services.users import add_user

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "pw-" + "secret1"
KEYS = ("time", "level", "logger", "message", "call_id", "job_id", "task_id", "user_id")
START_S = 120  # a loaded 2-core machine imports the app slowly; polled, never waited out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)


@pytest.fixture
def server(platform: Platform, tmp_path: Path) -> Iterator[Server]:
    s = platform.settings
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "QA_MODE": "test",
            "QA_HOME": str(s.home),
            "QA_DATABASE_URL": s.database,
            "QA_CHUNK_SIZE": str(s.chunk_size),
            "QA_MAX_REQUEST_BYTES": str(1024 * 1024),
            "QA_LOG_FORMAT": "json",
        }
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "web.log"
    cmd = [sys.executable, "-c", "from qa_platform.cli import main; main()", "web"]
    args = ["--workers", "2", "--threads", "2", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, *args],
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(port, proc, log)
    deadline = time.monotonic() + START_S
    while True:
        assert proc.poll() is None, log.read_text(errors="replace")
        try:
            conn = server.connect()
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "qa web did not start\n" + log.read_text()
        time.sleep(0.2)
    yield server
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@dataclass
class Visitor:
    """One keep-alive connection (one web process) with a cookie jar."""

    conn: http.client.HTTPConnection
    pid: int
    cookies: dict[str, str] = field(default_factory=dict)

    def send(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        for value in r.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return r.status, dict(r.headers), text

    def login(self, username: str, password: str) -> int:
        _, _, page = self.send("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page[:500]
        form = {"csrf_token": token.group(1), "username": username, "password": password}
        return self.send("POST", "/login", form)[0]


def _visitor_on(server: Server, avoid: int | None = None) -> Visitor:
    """A connection to a process (other than ``avoid``): new connections until one lands."""
    for _ in range(200):
        conn = server.connect()
        conn.request("GET", "/readyz")
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 200, body
        if body["pid"] != avoid:
            return Visitor(conn, int(body["pid"]))
        conn.close()
    raise AssertionError("every connection went to the same web process")


def test_two_processes_share_sessions_and_the_login_throttle(
    platform: Platform, server: Server
) -> None:
    add_user(platform, "alice", "inspector", password=PASSWORD)
    add_user(platform, "bob", "inspector", password=PASSWORD)
    first = _visitor_on(server)
    second = _visitor_on(server, avoid=first.pid)
    assert first.pid != second.pid

    assert first.login("alice", PASSWORD) == 303
    second.cookies = dict(first.cookies)  # the same browser, now on the other process
    status, headers, _ = second.send("GET", "/")
    assert status == 302 and headers["Location"].endswith("/home")
    assert second.send("GET", "/home")[0] == 200

    guesser = Visitor(first.conn, first.pid)
    for _ in range(5):
        assert guesser.login("bob", "wrong-password-1") == 401
    other = Visitor(second.conn, second.pid)
    assert other.login("bob", PASSWORD) == 429  # throttled on the process that saw none

    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
    assert lines and all(set(KEYS) <= set(line) for line in lines)  # every line, JSON, ids
    queue = [
        line
        for line in lines
        if line["logger"] == "qa.web.access" and line["message"].startswith("GET /home 200")
    ]
    assert len(queue) == 1 and queue[0]["user_id"] is not None
    assert queue[0]["process"] == second.pid
    booted = [line for line in lines if line["logger"] == "gunicorn.error"]
    assert booted, "gunicorn's own lines go through the platform's JSON handler"


def test_metrics_sum_the_requests_of_every_process(server: Server) -> None:
    first = _visitor_on(server)
    second = _visitor_on(server, avoid=first.pid)
    for visitor in (first, second):
        for _ in range(3):
            assert visitor.send("GET", "/healthz")[0] == 200
    status, _, text = first.send("GET", "/metrics")
    assert status == 200
    counts = {
        s.labels["route"]: s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "qa_http_request_duration_seconds_count" and s.labels.get("status") == "200"
    }
    assert counts["/healthz"] >= 6  # three on each process (plus the start-up probes)
    assert counts["/readyz"] >= 2


def test_request_lines_and_bodies_are_capped(server: Server) -> None:
    conn = server.connect()
    conn.request("GET", "/" + "a" * 9000)
    r = conn.getresponse()
    assert r.status in (400, 414)
    conn.close()

    conn = server.connect()
    conn.putrequest("POST", "/login")
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(64 * 1024 * 1024))
    conn.endheaders()
    conn.send(b"username=x&password=")
    r = conn.getresponse()
    assert r.status == 413
    conn.close()


def test_auto_chooses_gunicorn_in_production_or_with_workers() -> None:
    from qa_platform.cli.web import _chosen_server

    assert _chosen_server("auto", None, production=False) == "waitress"
    assert _chosen_server("auto", 4, production=False) == "gunicorn"
    assert _chosen_server("auto", None, production=True) == "gunicorn"
    assert _chosen_server("waitress", 4, production=True) == "waitress"


def test_gunicorn_caps_request_lines_and_headers(platform: Platform) -> None:
    from qa_platform.cli.web_server import gunicorn_options

    options = gunicorn_options(
        platform.settings, host="::1", port=8000, workers=3, threads=4, timeout=60
    )
    assert options["bind"] == ["[::1]:8000"]
    assert (options["workers"], options["threads"], options["worker_class"]) == (3, 4, "gthread")
    assert options["limit_request_line"] == 8190
    assert options["limit_request_fields"] == 100
    assert options["preload_app"] is False  # no database pool crosses a fork


def test_the_metrics_directory_loses_only_stale_samples(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa_platform.cli.web_server import metrics_dir

    given = tmp_path / "prom"
    given.mkdir()
    (given / "histogram_123.db").write_bytes(b"old")
    (given / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(given))
    assert metrics_dir(platform.settings) == given
    assert sorted(p.name for p in given.iterdir()) == ["keep.txt"]
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    fresh = metrics_dir(platform.settings)
    assert (
        fresh != given and fresh.is_dir() and os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(fresh)
    )
