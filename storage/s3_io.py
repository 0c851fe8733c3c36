"""File-like reading over ranged GETs and part-sized writing (helpers of ``storage.s3``)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# fetch(start, end) -> (bytes [start, end) or fewer at the end, total size or -1 if unknown)
Fetch = Callable[[int, int], tuple[bytes, int]]
PREFIX_MAX = 4096  # a first read this small (the encrypted header) is worth remembering


class RangedReader(io.RawIOBase):
    """A seekable read-only file whose reads are ranged GETs.

    Read-ahead adapts like an operating system's: a read after a seek, and the next sequential
    one, fetch just what was asked (a playback range decrypts one or two chunks and fetches
    nothing more); from the third sequential read on each fetch doubles, up to
    ``max_readahead`` (a worker decrypting a whole recording makes few large requests). At most
    one fetched window is held in memory.

    ``size`` and ``prefix`` (the blob's first bytes) may be known already: blobs are
    immutable, so the store remembers them (the encrypted header) and a playback request then
    costs one GET. ``on_prefix`` hears of a small read from offset 0.
    """

    def __init__(
        self,
        fetch: Fetch,
        size_of: Callable[[], int],
        max_readahead: int,
        *,
        size: int = -1,
        prefix: bytes = b"",
        on_prefix: Callable[[bytes, int], None] | None = None,
    ) -> None:
        super().__init__()
        self._fetch, self._size_of, self._max = fetch, size_of, max_readahead
        self._on_prefix = on_prefix
        self._pos, self._size = 0, size
        self._window_start, self._window = 0, prefix
        self._next_sequential, self._last_fetch, self._run = -1, 0, 0
        self.requests = 0  # ranged GETs made and bytes they brought (tests, benchmarks)
        self.fetched_bytes = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            if self._size < 0:
                self._size = self._size_of()
            base = self._size
        else:
            base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        wanted = len(buffer)
        if wanted == 0 or (0 <= self._size <= self._pos):
            return 0
        if not self._window_start <= self._pos < self._window_start + len(self._window):
            self._fill(wanted)
        offset = self._pos - self._window_start
        n = min(wanted, len(self._window) - offset)
        if n <= 0:
            return 0
        buffer[:n] = self._window[offset : offset + n]
        self._pos += n
        return n

    def _fill(self, wanted: int) -> None:
        self._run = self._run + 1 if self._pos == self._next_sequential else 0
        length = max(wanted, min(self._max, 2 * self._last_fetch)) if self._run >= 2 else wanted
        if self._size >= 0:
            length = min(length, self._size - self._pos)
        data, total = self._fetch(self._pos, self._pos + length)
        self.requests += 1
        self.fetched_bytes += len(data)
        if total >= 0:
            self._size = total
        if self._pos == 0 and self._on_prefix is not None and len(data) <= PREFIX_MAX:
            self._on_prefix(data, self._size)
        self._window_start, self._window, self._last_fetch = self._pos, data, length
        self._next_sequential = self._pos + len(data)


def iter_parts(chunks: Iterable[bytes], part_size: int) -> Iterator[bytes]:
    """Regroup ``chunks`` into parts of exactly ``part_size`` bytes (the last may be short or
    empty when there was nothing at all); memory stays about one part."""
    pending = bytearray()
    produced = False
    for chunk in chunks:
        pending += chunk
        while len(pending) >= part_size:
            yield bytes(pending[:part_size])
            del pending[:part_size]
            produced = True
    if pending or not produced:
        yield bytes(pending)
