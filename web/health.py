"""Readiness (就绪检查) of a web process: ``GET /readyz`` checks the database, the broker and
the blob store, each within a time budget, in parallel; 503 names what is down.

Liveness is ``GET /healthz`` (``web.auth``: no database, answers while the process serves).
A load balancer sends traffic only to processes whose ``/readyz`` answers 200.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from qa_platform.services.context import Platform
from storage.broker import ping_broker
from web.metrics import trusted_scraper
from web.policy import policy
from web.views import platform

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
CHECK_TIMEOUT_S = 3.0
PROBE_BLOB_ID = "0" * 32  # a well-formed id no recording has (ids are random)
_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="qa-readyz")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One dependency's state: ``ok`` or ``down`` with the reason, or ``not used``."""

    name: str
    status: str  # ok | down | not used
    detail: str = ""

    def to_dict(self, detailed: bool = True) -> dict[str, str]:
        shown = self.detail and detailed
        return {"status": self.status, **({"detail": self.detail} if shown else {})}


def check_database(plat: Platform) -> str:
    with plat.uow() as uow:
        uow.session.execute(text("SELECT 1"))
    return ""


def check_broker(plat: Platform) -> str:
    if plat.settings.eager:
        return "not used"
    ping_broker(plat.settings.broker_url, timeout_s=CHECK_TIMEOUT_S)
    return ""


def check_blob_store(plat: Platform) -> str:
    store = plat.store
    if plat.settings.blob_location.kind == "file" and not plat.settings.blobs.is_dir():
        raise FileNotFoundError(f"blob directory {plat.settings.blobs} is missing")
    store.exists(PROBE_BLOB_ID)  # one HEAD on S3: reachable, credentials accepted
    return ""


CHECKS: dict[str, Callable[[Platform], str]] = {
    "database": check_database,
    "broker": check_broker,
    "blob_store": check_blob_store,
}


def run_checks(plat: Platform, timeout_s: float = CHECK_TIMEOUT_S) -> list[CheckResult]:
    """Every check at once; one that raises or outlasts ``timeout_s`` is ``down``."""
    futures = {name: _pool.submit(check, plat) for name, check in CHECKS.items()}
    results = []
    for name, future in futures.items():
        try:
            note = future.result(timeout=timeout_s)
            results.append(CheckResult(name, "not used" if note == "not used" else "ok"))
        except FutureTimeout:
            results.append(CheckResult(name, "down", f"no answer within {timeout_s:g} s"))
        except Exception as exc:  # any failure of a dependency is a reason to take no traffic
            results.append(CheckResult(name, "down", f"{type(exc).__name__}: {exc}"[:300]))
    return results


@bp.get("/readyz")
@policy(public=True)
def readyz() -> Any:
    """200 when the database, the broker and the blob store answer; 503 naming what is down."""
    results = run_checks(platform())
    down = [r.name for r in results if r.status == "down"]
    for r in results:
        if r.status == "down":
            log.warning("not ready: %s is down: %s", r.name, r.detail)
    detailed = trusted_scraper()  # reasons (host names) only for the operator's scraper
    body = {
        "ready": not down,
        "down": down,
        "checks": {r.name: r.to_dict(detailed) for r in results},
        "pid": os.getpid(),  # which web process answered (several serve one port)
    }
    return jsonify(body), (503 if down else 200)
