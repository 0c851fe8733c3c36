"""Retry delays for transient failures: exponential, jittered, capped."""

from __future__ import annotations

from workers.tasks import retry_countdown


def test_backoff_doubles_per_attempt_with_jitter_in_the_upper_half() -> None:
    for attempt, ceiling in ((1, 2.0), (2, 4.0), (3, 8.0), (5, 32.0)):
        delays = {retry_countdown(attempt, base_s=2.0, cap_s=300.0) for _ in range(200)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 20  # jittered: retries of many jobs do not arrive together


def test_backoff_never_exceeds_the_cap() -> None:
    assert all(retry_countdown(30, base_s=2.0, cap_s=60.0) <= 60.0 for _ in range(100))
