"""Bounded load on loopback: p50/p95 latency of the web pages and the audio range endpoint.

Starts the real app (waitress, and/or gunicorn through the real ``qa web --workers N``;
SQLite embedded default in a temp QA_HOME) with
the e2e story's data, signs in as the inspector, then for each endpoint sends ``--requests``
requests from ``--users`` concurrent client threads (each its own keep-alive connection).
``/healthz`` (no database, no template) is the static baseline measured in the same run.

    .venv/bin/python benchmarks/web_load.py --users 50 --requests 1000
    .venv/bin/python benchmarks/web_load.py --server both --workers 2 --threads 8

``--server both`` measures gunicorn and waitress one after the other in the same run, on the
same data.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def setup(home: Path):  # type: ignore[no-untyped-def]
    from qa_platform.services.context import Platform
    from qa_platform.settings import Settings, set_settings
    from storage.keyring import Keyring
    from storage.migrate import upgrade
    from tests.factories import build_story_world as build_world

    settings = Settings(home=home, mode="embedded")
    settings.ensure_dirs()
    set_settings(settings)
    upgrade(settings.database)
    Keyring.load_or_create(settings.keyring)
    platform = Platform(settings)
    return platform, build_world(platform, home)


SERVER = """
import logging, socket, sys
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
from waitress import serve
from web import create_app
sock = socket.socket(); sock.bind(("127.0.0.1", 0)); sock.listen(1024)
print(sock.getsockname()[1], flush=True)
serve(create_app(), sockets=[sock], threads=int(sys.argv[1]), connection_limit=1000,
      backlog=1024, ident="qa")
"""


def serve(home: Path, threads: int) -> tuple[subprocess.Popen[str], int]:
    """The server runs in its own process (the load client must not share its GIL)."""
    env = {**os.environ, "QA_HOME": str(home), "QA_MODE": "embedded"}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(threads)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    port = int(proc.stdout.readline())  # type: ignore[union-attr]
    return proc, port


def serve_gunicorn(home: Path, workers: int, threads: int) -> tuple[subprocess.Popen[str], int]:
    """``qa web --workers N --threads T`` (gunicorn) on a free port, once /healthz answers."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "QA_HOME": str(home), "QA_MODE": "embedded"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-c", "from qa_platform.cli import main; main()", "web"]
    args = ["--workers", str(workers), "--threads", str(threads), "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("qa web (gunicorn) did not start")


def login(port: int, username: str) -> str:
    import re

    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login")
    r = conn.getresponse()
    html = r.read().decode()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    body = f"csrf_token={token}&username={username}&password=pw-secret1"
    conn.request(
        "POST",
        "/login",
        body,
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    r = conn.getresponse()
    r.read()
    assert r.status == 303, r.status
    return r.getheader("Set-Cookie").split(";")[0]


def measure(
    port: int,
    path: str,
    cookie: str,
    users: int,
    total: int,
    headers: dict[str, str] | None = None,
    size: int = 0,
) -> list[float]:
    local = threading.local()

    def one(_: int) -> float:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            local.cookie = cookie
        h = {"Cookie": local.cookie, **(headers or {})}
        if size:
            start = random.randrange(0, size - 65536)
            h["Range"] = f"bytes={start}-{start + 65535}"
        t0 = time.perf_counter()
        local.conn.request("GET", path, headers=h)
        r = local.conn.getresponse()
        r.read()
        elapsed = time.perf_counter() - t0
        assert r.status in (200, 206), (path, r.status)
        if r.getheader("Set-Cookie"):  # a browser keeps its updated session cookie
            local.cookie = r.getheader("Set-Cookie").split(";")[0]
        return elapsed

    with ThreadPoolExecutor(users) as pool:
        return list(pool.map(one, range(total)))


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000


def run_endpoints(port: int, world, args: argparse.Namespace, title: str) -> None:  # type: ignore[no-untyped-def]
    insp = login(port, "insp")
    size = world.audio_path.stat().st_size
    targets = [
        ("/healthz (baseline)", "/healthz", {}, 0),
        ("queue page", "/queue", {}, 0),
        ("evaluation page", f"/evaluations/{world.evaluation_id}", {}, 0),
        ("audio range 64 KiB", f"/calls/{world.call_id}/audio", {}, size),
    ]
    print(f"\n{title}: users={args.users} requests={args.requests} per endpoint")
    print("| endpoint | p50 ms | p95 ms | req/s | p95 / baseline p95 |")
    print("|---|---|---|---|---|")
    base = None
    for label, path, headers, sz in targets:
        measure(port, path, insp, args.users, min(100, args.requests), headers, sz)  # warm-up
        t0 = time.perf_counter()
        lat = measure(port, path, insp, args.users, args.requests, headers, sz)
        rate = len(lat) / (time.perf_counter() - t0)
        p95 = pct(lat, 95)
        base = base or p95
        print(f"| {label} | {pct(lat, 50):.1f} | {p95:.1f} | {rate:.0f} | {p95 / base:.1f} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=8, help="server threads (qa web --threads)")
    ap.add_argument("--server", choices=("waitress", "gunicorn", "both"), default="waitress")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="gunicorn processes")
    args = ap.parse_args()
    servers = ("gunicorn", "waitress") if args.server == "both" else (args.server,)
    with tempfile.TemporaryDirectory() as tmp:
        _platform, world = setup(Path(tmp))
        for name in servers:
            if name == "gunicorn":
                proc, port = serve_gunicorn(Path(tmp), args.workers, args.threads)
                title = f"gunicorn {args.workers} workers x {args.threads} threads"
            else:
                proc, port = serve(Path(tmp), args.threads)
                title = f"waitress 1 process x {args.threads} threads"
            try:
                run_endpoints(port, world, args, title)
            finally:
                proc.terminate()
                proc.wait(30)


if __name__ == "__main__":
    main()
