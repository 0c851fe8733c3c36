"""Retries for S3 requests: exponential backoff with full jitter, transient errors only.

Transient: the connection failed, was reset or timed out (also half-way through a body), or
the server answered 5xx / 429 / a throttling code. Everything else (403, 404, 412 …) is an
answer and is raised at once. botocore's own retries are switched off so that this is the
one policy, and it also covers reading a response body.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    SSLError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from urllib3.exceptions import HTTPError as Urllib3Error

from qa_platform.domain.errors import QaError

T = TypeVar("T")

_THROTTLE_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "ServiceUnavailable",
    "ConditionalRequestConflict",  # AWS: a conflicting conditional write in flight; retry
}


class BlobStoreUnavailable(QaError):
    """The object store did not answer (or kept failing) after every retry."""


def status_of(exc: BaseException) -> int:
    """The HTTP status of an S3 error answer (0 when there was no answer)."""
    if isinstance(exc, ClientError):
        return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 0


def code_of(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def is_transient(exc: BaseException) -> bool:
    """Worth another try: no answer, a broken answer, or the server asked us to slow down."""
    if isinstance(exc, SSLError):
        return False  # a certificate problem does not heal by itself
    if isinstance(exc, BotoConnectionError | HTTPClientError | IncompleteReadError):
        return True
    if isinstance(exc, Urllib3Error | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, ClientError):
        status = status_of(exc)
        return status >= 500 or status == 429 or code_of(exc) in _THROTTLE_CODES
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` tries; before try *n* (n ≥ 1) a random wait in [0, min(cap, base·2ⁿ⁻¹)]."""

    max_attempts: int = 5
    base_s: float = 0.1
    cap_s: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, retry: int) -> float:
        """Full jitter (AWS architecture blog): spreads clients that failed together."""
        return self.jitter() * min(self.cap_s, self.base_s * 2**retry)

    def call(self, what: str, request: Callable[[], T]) -> T:
        """Run ``request`` until it succeeds, fails for good, or the attempts are spent."""
        for attempt in range(self.max_attempts):
            try:
                return request()
            except (BotoCoreError, ClientError, Urllib3Error, OSError) as exc:
                if not is_transient(exc):
                    raise
                if attempt == self.max_attempts - 1:
                    raise BlobStoreUnavailable(
                        f"object store: {what} failed {self.max_attempts} times "
                        f"(last: {type(exc).__name__}: {exc})"
                    ) from exc
                self.sleep(self.delay(attempt))
        raise AssertionError("unreachable: max_attempts >= 1")
