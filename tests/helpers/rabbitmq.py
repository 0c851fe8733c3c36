"""The real RabbitMQ of this machine (127.0.0.1:5672, guest/guest), one vhost per test so that
queues, the delayed-delivery exchanges and connections of parallel tests never meet.

``rabbitmqctl`` (run as root here) creates and deletes the vhost, lists queues and channels
and closes a vhost's connections (the fault the broker tests inject).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

HOST = os.environ.get("QA_TEST_RABBITMQ", "guest:guest@127.0.0.1:5672")


def rabbitmqctl(*args: str, timeout_s: float = 60) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr or done.stdout}")
    return done.stdout


def listing(kind: str, vhost: str, *columns: str) -> list[dict[str, Any]]:
    """``rabbitmqctl list_<kind>`` as dicts (JSON formatter)."""
    args = [f"list_{kind}", *columns, "--formatter", "json"]
    if kind != "channels":
        args[1:1] = ["-p", vhost]
    rows: list[dict[str, Any]] = json.loads(rabbitmqctl(*args) or "[]")
    if kind == "channels":
        rows = [r for r in rows if r.get("vhost") == vhost]
    return rows


@contextmanager
def temporary_vhost(prefix: str = "qa_test") -> Iterator[str]:
    """A fresh vhost that guest may use; yields its ``amqp://`` URL; deleted afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield f"amqp://{HOST}/{name}"
    finally:
        rabbitmqctl("delete_vhost", name)


def vhost_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def close_connections(vhost: str) -> None:
    """Close every client connection of ``vhost`` (workers and publishers see a dropped link)."""
    rabbitmqctl("close_all_connections", "--vhost", vhost, "--limit", "1000", "broker fault test")
