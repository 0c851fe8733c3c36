"""Encrypt/decrypt throughput of the chunked format against one-shot AES-GCM (same bytes, same run).

    .venv/bin/python benchmarks/crypto.py [--mib 64] [--repeat 5]

Both sides do the same job as ingest and export do: read from a file object, write the result
to a sink. One-shot reads everything and makes one AESGCM call; streaming goes chunk by chunk
in constant memory. Prints MiB/s and the time ratio streaming/one-shot (goal: ≤ 1.3).
"""

from __future__ import annotations

import argparse
import io
import os
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage import crypto


class Sink:
    """Counts bytes written, like a file opened for writing, without disk noise."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)

    def drain(self, chunks) -> None:  # type: ignore[no-untyped-def]
        for chunk in chunks:
            self.write(chunk)


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data = os.urandom(args.mib * 1024 * 1024)
    key = crypto.new_data_key()
    aead, nonce = AESGCM(key), os.urandom(12)
    one_ct = aead.encrypt(nonce, data, b"rec")
    sink = Sink()
    t_one_enc = best(
        lambda: sink.write(aead.encrypt(nonce, io.BytesIO(data).read(), b"rec")), args.repeat
    )
    t_one_dec = best(
        lambda: sink.write(aead.decrypt(nonce, io.BytesIO(one_ct).read(), b"rec")), args.repeat
    )
    print(f"payload {args.mib} MiB, best of {args.repeat}")
    print(f"{'':24}{'encrypt MiB/s':>14}{'decrypt MiB/s':>14}{'enc ratio':>11}{'dec ratio':>11}")
    print(
        f"{'one-shot AESGCM':24}{args.mib / t_one_enc:14.0f}{args.mib / t_one_dec:14.0f}{1:11.2f}{1:11.2f}"
    )
    for chunk in (64 * 1024, 256 * 1024, 1024 * 1024):
        blob = crypto.encrypt_bytes(data, key, "rec", chunk)
        t_enc = best(
            lambda c=chunk: sink.drain(crypto.encrypt_stream(io.BytesIO(data), key, "rec", c)),
            args.repeat,
        )
        t_dec = best(
            lambda b=blob: sink.drain(crypto.decrypt_chunks(io.BytesIO(b), len(b), key, "rec")),
            args.repeat,
        )
        print(
            f"{'streaming ' + str(chunk // 1024) + ' KiB chunks':24}{args.mib / t_enc:14.0f}"
            f"{args.mib / t_dec:14.0f}{t_enc / t_one_enc:11.2f}{t_dec / t_one_dec:11.2f}"
        )
    rng = [
        crypto.decrypt_range(io.BytesIO(blob), len(blob), key, "rec", o, o + 32000)
        for o in range(0, 1024 * 1024, 64 * 1024)
    ]
    t_rng = best(
        lambda: crypto.decrypt_range(io.BytesIO(blob), len(blob), key, "rec", 5_000_000, 5_032_000),
        50,
    )
    print(
        f"range read of 32 000 bytes (1 s of 16 kHz audio): {t_rng * 1e6:.0f} µs "
        f"({len(rng)} ranges checked)"
    )


if __name__ == "__main__":
    main()
