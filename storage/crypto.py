"""Chunked AES-256-GCM format for recordings (envelope encryption, streaming, random access).

Layout of an encrypted blob::

    header (18 bytes): magic "QAR" | version (1) | algorithm (1) | chunk size (u32 BE)
                       | nonce prefix (8 random bytes) | reserved (1)
    chunk 0 ciphertext + 16-byte tag, chunk 1 ..., last chunk (may be short or empty)

Chunk *i*'s nonce is ``prefix || u32(i)``; its associated data binds the whole header, the
recording id, the chunk index and a last-chunk marker, so chunks cannot be edited, swapped
between recordings, reordered, or dropped from the end without detection. The plaintext size
is derived from the blob size, so encryption can stream from a source of unknown length.
The version and algorithm bytes leave room for another cipher (SM4) later.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qa_platform.domain.errors import QaError

MAGIC = b"QAR"
VERSION = 1
ALG_AES_256_GCM = 1
TAG_SIZE = 16
HEADER = struct.Struct(">3sBBI8sB")
HEADER_SIZE = HEADER.size
MAX_CHUNKS = 2**32


class BlobIntegrityError(QaError):
    """The blob failed authentication: tampered, reordered, truncated, or the wrong key."""


class BlobFormatError(BlobIntegrityError):
    """The blob is not in a format this code reads (bad magic, version or algorithm)."""


@dataclass(frozen=True)
class BlobHeader:
    chunk_size: int
    nonce_prefix: bytes
    version: int = VERSION
    algorithm: int = ALG_AES_256_GCM

    def pack(self) -> bytes:
        return HEADER.pack(
            MAGIC, self.version, self.algorithm, self.chunk_size, self.nonce_prefix, 0
        )

    @classmethod
    def unpack(cls, raw: bytes, recording_id: str) -> BlobHeader:
        if len(raw) < HEADER_SIZE:
            raise BlobFormatError(f"recording {recording_id}: blob shorter than its header")
        magic, version, alg, chunk_size, prefix, _ = HEADER.unpack(raw[:HEADER_SIZE])
        if magic != MAGIC:
            raise BlobFormatError(f"recording {recording_id}: not an encrypted recording blob")
        if version != VERSION or alg != ALG_AES_256_GCM:
            raise BlobFormatError(
                f"recording {recording_id}: unsupported format version {version} / algorithm {alg}"
            )
        if chunk_size <= 0:
            raise BlobFormatError(f"recording {recording_id}: invalid chunk size {chunk_size}")
        return cls(chunk_size=chunk_size, nonce_prefix=prefix, version=version, algorithm=alg)


def new_data_key() -> bytes:
    """A fresh 256-bit data key (one per recording)."""
    return AESGCM.generate_key(bit_length=256)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _aad(header: bytes, recording_id: str, index: int, last: bool) -> bytes:
    rid = recording_id.encode()
    return header + struct.pack(">H", len(rid)) + rid + struct.pack(">QB", index, int(last))


def _read_exact(source: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def encrypt_stream(
    source: BinaryIO, data_key: bytes, recording_id: str, chunk_size: int
) -> Iterator[bytes]:
    """Yield the header then each encrypted chunk; memory stays at about two chunks."""
    prefix = os.urandom(8)
    header = BlobHeader(chunk_size=chunk_size, nonce_prefix=prefix).pack()
    aead = AESGCM(data_key)
    yield header
    index = 0
    current = _read_exact(source, chunk_size)
    while True:
        following = _read_exact(source, chunk_size) if len(current) == chunk_size else b""
        last = not following
        if index >= MAX_CHUNKS:
            raise ValueError("recording too large for this chunk size")
        yield aead.encrypt(_nonce(prefix, index), current, _aad(header, recording_id, index, last))
        if last:
            return
        current, index = following, index + 1


def encrypt_bytes(plaintext: bytes, data_key: bytes, recording_id: str, chunk_size: int) -> bytes:
    """Encrypt an in-memory buffer (tests, small inputs)."""
    import io

    return b"".join(encrypt_stream(io.BytesIO(plaintext), data_key, recording_id, chunk_size))


@dataclass(frozen=True)
class BlobLayout:
    """Where each chunk lies in a blob of a given size."""

    header: BlobHeader
    header_bytes: bytes
    blob_size: int

    @property
    def stride(self) -> int:
        return self.header.chunk_size + TAG_SIZE

    @property
    def chunk_count(self) -> int:
        payload = self.blob_size - HEADER_SIZE
        return max(1, -(-payload // self.stride))

    @property
    def plaintext_size(self) -> int:
        return self.blob_size - HEADER_SIZE - TAG_SIZE * self.chunk_count

    def chunk_span(self, index: int) -> tuple[int, int]:
        """(offset, length) of chunk ``index``'s ciphertext in the blob."""
        offset = HEADER_SIZE + index * self.stride
        return offset, min(self.stride, self.blob_size - offset)


def read_layout(blob: BinaryIO, blob_size: int, recording_id: str) -> BlobLayout:
    blob.seek(0)
    raw = _read_exact(blob, HEADER_SIZE)
    header = BlobHeader.unpack(raw, recording_id)
    if blob_size < HEADER_SIZE + TAG_SIZE:
        raise BlobIntegrityError(f"recording {recording_id}: blob truncated (no chunk)")
    return BlobLayout(header=header, header_bytes=raw, blob_size=blob_size)


def _decrypt_chunk(
    blob: BinaryIO, layout: BlobLayout, aead: AESGCM, recording_id: str, index: int
) -> bytes:
    offset, length = layout.chunk_span(index)
    if length < TAG_SIZE:
        raise BlobIntegrityError(f"recording {recording_id}: blob truncated inside chunk {index}")
    blob.seek(offset)
    ciphertext = _read_exact(blob, length)
    last = index == layout.chunk_count - 1
    aad = _aad(layout.header_bytes, recording_id, index, last)
    try:
        return aead.decrypt(_nonce(layout.header.nonce_prefix, index), ciphertext, aad)
    except InvalidTag:
        raise BlobIntegrityError(
            f"recording {recording_id}: chunk {index} failed authentication "
            "(blob tampered, reordered, truncated, swapped or decrypted with the wrong key)"
        ) from None


def decrypt_chunks(
    blob: BinaryIO, blob_size: int, data_key: bytes, recording_id: str
) -> Iterator[bytes]:
    """Yield every authenticated plaintext chunk in order.

    Each chunk is released only after its tag verifies; a caller that must not see any
    plaintext of a bad blob writes to a temporary file and discards it on error
    (see ``storage.recordings``).
    """
    layout = read_layout(blob, blob_size, recording_id)
    aead = AESGCM(data_key)
    for index in range(layout.chunk_count):
        yield _decrypt_chunk(blob, layout, aead, recording_id, index)


def decrypt_range(
    blob: BinaryIO, blob_size: int, data_key: bytes, recording_id: str, start: int, end: int
) -> bytes:
    """Plaintext bytes ``[start, end)`` decrypting only the chunks that hold them."""
    layout = read_layout(blob, blob_size, recording_id)
    size = layout.plaintext_size
    if not 0 <= start <= end:
        raise ValueError(f"invalid byte range {start}-{end}")
    end = min(end, size)
    if start >= end:
        return b""
    aead = AESGCM(data_key)
    cs = layout.header.chunk_size
    first, last = start // cs, (end - 1) // cs
    data = b"".join(
        _decrypt_chunk(blob, layout, aead, recording_id, i) for i in range(first, last + 1)
    )
    return data[start - first * cs : end - first * cs]


def plaintext_size(blob: BinaryIO, blob_size: int, recording_id: str) -> int:
    return read_layout(blob, blob_size, recording_id).plaintext_size
