"""Range read of one second of audio from S3 against the local store (same run, same call).

    .venv/bin/python benchmarks/s3_range.py [--minutes 10] [--reads 300] [--chunk-kib 64]

Starts a throw-away SeaweedFS (scripts/seaweedfs.sh) on this machine, ingests the same
telephone call (8 kHz stereo 16-bit WAV: 32 000 bytes a second) into a local-directory platform
and into an S3 platform, then times ``read_range`` — what one HTTP Range request of playback
does: look up the recording, unwrap its data key, size the blob, read and decrypt only the
chunks that hold the bytes — for one second at random offsets, alternating the two stores.
Also times the whole-file decrypt a worker does (``plaintext_tempfile``). Prints medians, p95
and the S3/local ratios, and the GETs and bytes fetched per S3 range read.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_platform.domain.calls import CallMetadata
from qa_platform.services.bootstrap import initialise
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.recordings import plaintext_tempfile, read_range
from qa_platform.settings import Settings
from storage.s3_io import RangedReader
from tests.helpers.files import make_audio
from tests.helpers.seaweedfs import start_seaweedfs

SECOND = 32_000  # bytes of one second: 8 kHz × 2 channels × 2 bytes


def _platform(settings: Settings) -> Platform:
    platform = Platform(settings)
    initialise(platform)
    return platform


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--reads", type=int, default=300)
    ap.add_argument("--chunk-kib", type=int, default=64)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = start_seaweedfs(root / "seaweedfs")
        try:
            wav = make_audio(root / "call.wav", seconds=args.minutes * 60, rate=8000, channels=2)
            base = Settings(home=root / "local", chunk_size=args.chunk_kib * 1024)
            local = _platform(base)
            s3 = _platform(
                server.settings(replace(base, home=root / "s3"), bucket="qa-bench", prefix="run")
            )
            calls = {}
            for name, plat in (("local", local), ("s3", s3)):
                result = ingest_file(plat, wav, CallMetadata())
                assert result.call_id is not None, result.error
                calls[name] = result.call_id
            readers: list[RangedReader] = []
            opened = s3.store.open
            s3.store.open = lambda b: readers.append(opened(b)) or readers[-1]  # type: ignore[method-assign,func-returns-value]
            size = wav.stat().st_size
            rng = random.Random(7)
            starts = [rng.randrange(44, size - SECOND) for _ in range(args.reads)]
            times: dict[str, list[float]] = {"local": [], "s3": []}
            for start in starts:
                for name, plat in (("local", local), ("s3", s3)):
                    call = calls[name]
                    times[name].append(
                        _time(lambda p=plat, c=call, a=start: read_range(p, c, a, a + SECOND))
                    )
            whole = {}
            for name, plat in (("local", local), ("s3", s3)):
                call = calls[name]

                def decrypt_all(p: Platform = plat, c: int = call) -> None:
                    with plaintext_tempfile(p, c):
                        pass

                whole[name] = min(_time(decrypt_all) for _ in range(3))
            range_readers = readers[: args.reads]
        finally:
            server.stop()
    _report(args, size, times, whole, range_readers)


def _report(args, size, times, whole, readers) -> None:  # type: ignore[no-untyped-def]
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    p95 = {k: _p95(v) * 1000 for k, v in times.items()}
    print(
        f"call: {args.minutes:g} min 8 kHz stereo WAV ({size / 1e6:.1f} MB), "
        f"{args.chunk_kib} KiB chunks; {args.reads} one-second range reads at random offsets"
    )
    print("| store | median ms | p95 ms | whole-file decrypt s |")
    print("|---|---|---|---|")
    for name in ("local", "s3"):
        print(f"| {name} | {med[name]:.2f} | {p95[name]:.2f} | {whole[name]:.3f} |")
    print(
        f"| ratio s3/local | {med['s3'] / med['local']:.2f} | {p95['s3'] / p95['local']:.2f} "
        f"| {whole['s3'] / whole['local']:.2f} |"
    )
    gets = [r.requests for r in readers]
    fetched = [r.fetched_bytes for r in readers]
    print(
        f"S3 per range read: {statistics.mean(gets):.2f} GETs (max {max(gets)}), "
        f"{statistics.mean(fetched) / 1000:.1f} kB fetched for {SECOND / 1000:.0f} kB asked"
    )


if __name__ == "__main__":
    main()
