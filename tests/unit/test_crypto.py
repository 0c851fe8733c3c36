"""The encrypted recording format: round trips, range reads, and every kind of tampering."""

from __future__ import annotations

import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import crypto
from storage.crypto import HEADER_SIZE, TAG_SIZE, BlobIntegrityError

CHUNK = 64
KEY = crypto.new_data_key()


def enc(data: bytes, rid: str = "rec-1", chunk: int = CHUNK) -> bytes:
    return crypto.encrypt_bytes(data, KEY, rid, chunk)


def dec(blob: bytes, rid: str = "rec-1", key: bytes = KEY) -> bytes:
    return b"".join(crypto.decrypt_chunks(io.BytesIO(blob), len(blob), key, rid))


# sizes at and around chunk boundaries, plus arbitrary ones
boundary_sizes = st.sampled_from([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK - 1])
sizes = st.one_of(boundary_sizes, st.integers(0, 10 * CHUNK))


@given(size=sizes, seed=st.integers(0, 2**16))
def test_round_trip_any_size(size: int, seed: int) -> None:
    data = os.urandom(size) if seed % 2 else bytes([seed % 256]) * size
    blob = enc(data)
    assert dec(blob) == data
    expected_chunks = max(1, -(-size // CHUNK))  # an empty plaintext is one empty chunk
    assert len(blob) == HEADER_SIZE + size + TAG_SIZE * expected_chunks


@given(size=sizes, data=st.data())
def test_range_read_equals_slice(size: int, data: st.DataObject) -> None:
    plain = os.urandom(size)
    blob = enc(plain)
    start = data.draw(st.integers(0, size + 5))
    end = data.draw(st.integers(start, size + 2 * CHUNK))
    got = crypto.decrypt_range(io.BytesIO(blob), len(blob), KEY, "rec-1", start, end)
    assert got == plain[start:end]


def test_range_read_decrypts_only_needed_chunks() -> None:
    plain = os.urandom(10 * CHUNK)
    blob = bytearray(enc(plain))
    # corrupt chunk 0: a read of chunk 5 must still succeed (chunks are independent)
    blob[HEADER_SIZE + 3] ^= 1
    got = crypto.decrypt_range(
        io.BytesIO(bytes(blob)), len(blob), KEY, "rec-1", 5 * CHUNK, 6 * CHUNK
    )
    assert got == plain[5 * CHUNK : 6 * CHUNK]
    with pytest.raises(BlobIntegrityError, match="chunk 0"):
        crypto.decrypt_range(io.BytesIO(bytes(blob)), len(blob), KEY, "rec-1", 0, 10)


@settings(max_examples=60)
@given(size=st.integers(1, 6 * CHUNK), data=st.data())
def test_any_flipped_bit_is_detected(size: int, data: st.DataObject) -> None:
    blob = bytearray(enc(os.urandom(size)))
    pos = data.draw(st.integers(0, len(blob) - 1))
    blob[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(BlobIntegrityError):
        dec(bytes(blob))


def test_reordered_chunks_are_detected() -> None:
    blob = enc(os.urandom(4 * CHUNK))
    stride = CHUNK + TAG_SIZE
    body = [blob[HEADER_SIZE + i * stride : HEADER_SIZE + (i + 1) * stride] for i in range(4)]
    swapped = blob[:HEADER_SIZE] + body[1] + body[0] + b"".join(body[2:])
    with pytest.raises(BlobIntegrityError, match="chunk 0"):
        dec(swapped)


@pytest.mark.parametrize("cut_chunks", [1, 2])
def test_truncation_at_chunk_boundary_is_detected(cut_chunks: int) -> None:
    blob = enc(os.urandom(4 * CHUNK + 10))
    stride = CHUNK + TAG_SIZE
    truncated = blob[: len(blob) - 10 - TAG_SIZE - (cut_chunks - 1) * stride]
    with pytest.raises(BlobIntegrityError):
        dec(truncated)


def test_truncation_inside_a_chunk_is_detected() -> None:
    blob = enc(os.urandom(3 * CHUNK))
    with pytest.raises(BlobIntegrityError):
        dec(blob[:-5])


def test_blob_of_another_recording_is_detected() -> None:
    """Swapping two recordings' blobs (same key reused by mistake) fails: the id is bound."""
    blob = enc(b"x" * 100, rid="rec-A")
    with pytest.raises(BlobIntegrityError, match="rec-B"):
        dec(blob, rid="rec-B")


def test_wrong_key_is_detected_and_yields_nothing() -> None:
    blob = enc(os.urandom(3 * CHUNK))
    out = []
    with pytest.raises(BlobIntegrityError):
        for chunk in crypto.decrypt_chunks(
            io.BytesIO(blob), len(blob), crypto.new_data_key(), "rec-1"
        ):
            out.append(chunk)
    assert out == []


def test_header_tampering_is_detected() -> None:
    blob = bytearray(enc(os.urandom(100)))
    blob[10] ^= 0xFF  # nonce prefix
    with pytest.raises(BlobIntegrityError):
        dec(bytes(blob))


def test_not_a_blob_is_a_format_error() -> None:
    with pytest.raises(crypto.BlobFormatError, match="not an encrypted recording"):
        dec(b"RIFF" + b"\x00" * 100)


def test_streaming_uses_bounded_reads() -> None:
    """Encryption reads the source a chunk at a time (constant memory)."""

    class Recorder(io.BytesIO):
        biggest = 0

        def read(self, n: int = -1) -> bytes:  # type: ignore[override]
            assert n != -1, "whole-file read"
            Recorder.biggest = max(Recorder.biggest, n)
            return super().read(n)

    src = Recorder(os.urandom(50 * CHUNK))
    blob = b"".join(crypto.encrypt_stream(src, KEY, "r", CHUNK))
    assert Recorder.biggest == CHUNK
    assert dec(blob, rid="r") == src.getvalue()
