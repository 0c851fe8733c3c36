"""Ranged reading with adaptive read-ahead, part regrouping, and retry backoff (pure parts of
the S3 store; the store itself is tested on a real server in tests/integration)."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.s3_io import RangedReader, iter_parts
from storage.s3_retry import BlobStoreUnavailable, RetryPolicy

DATA = os.urandom(100_000)


def reader(max_readahead: int = 32_768) -> tuple[RangedReader, list[tuple[int, int]]]:
    asked: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> tuple[bytes, int]:
        asked.append((start, end))
        return DATA[start:end], len(DATA)

    return RangedReader(fetch, lambda: len(DATA), max_readahead), asked


def test_a_read_after_a_seek_fetches_only_what_was_asked() -> None:
    r, asked = reader()
    r.seek(50_000)
    assert r.read(100) == DATA[50_000:50_100]
    assert asked == [(50_000, 50_100)]


def test_sequential_reads_double_the_fetch_from_the_third_up_to_the_cap() -> None:
    r, asked = reader(max_readahead=4096)
    out = b"".join(iter(lambda: r.read(1000), b""))
    assert out == DATA
    sizes = [end - start for start, end in asked]
    assert sizes[:5] == [1000, 1000, 2000, 4000, 4096] and max(sizes) == 4096


def test_seek_from_the_end_and_reading_past_it() -> None:
    r, _ = reader()
    assert r.seek(-10, io.SEEK_END) == len(DATA) - 10
    assert r.read(100) == DATA[-10:]
    assert r.read(1) == b""


@given(sizes=st.lists(st.integers(0, 300), max_size=30), part=st.integers(1, 200))
def test_parts_are_exactly_part_size_except_the_last(sizes: list[int], part: int) -> None:
    chunks = [bytes([n % 251]) * n for n in sizes]
    parts = list(iter_parts(chunks, part))
    assert b"".join(parts) == b"".join(chunks)
    assert all(len(p) == part for p in parts[:-1]) and 0 < len(parts)
    assert len(parts[-1]) <= part and (len(parts[-1]) > 0 or len(parts) == 1)


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    policy = RetryPolicy(base_s=0.1, cap_s=1.0, jitter=lambda: 1.0)
    assert [policy.delay(n) for n in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert RetryPolicy(jitter=lambda: 0.0).delay(3) == 0.0


def test_only_transient_errors_are_retried() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=3, sleep=sleeps.append)
    attempts = iter([ConnectionResetError("reset"), TimeoutError("slow"), "ok"])

    def flaky() -> str:
        result = next(attempts)
        if isinstance(result, Exception):
            raise result
        return result

    assert policy.call("GET x", flaky) == "ok" and len(sleeps) == 2
    with pytest.raises(FileNotFoundError):  # an answer, not a fault: raised at once
        policy.call("GET y", lambda: (_ for _ in ()).throw(FileNotFoundError("gone")))
    with pytest.raises(BlobStoreUnavailable, match="GET z failed 3 times"):
        policy.call("GET z", lambda: (_ for _ in ()).throw(ConnectionResetError("reset")))
