"""Ingest throughput (files/s, MB/s) on the embedded default, against copying the same files.

    .venv/bin/python benchmarks/ingest.py [--files 40] [--seconds 120] [--database URL]

Generates stereo 8 kHz telephone WAVs, then times `ingest_many` (probe by full decode, sha256,
encrypt, store, database row, audit event) and, in the same run, a plain `shutil.copyfile` of
the same files as the floor.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_platform.domain.calls import CallMetadata
from qa_platform.services.bootstrap import initialise
from qa_platform.services.context import Platform
from qa_platform.services.ingest import IngestItem, ingest_many
from qa_platform.settings import Settings
from tests.helpers.files import make_audio


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--database", default="")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = root / "src"
        src.mkdir()
        files = [
            make_audio(src / f"c{i}.wav", seconds=args.seconds, rate=8000, channels=2, seed=i)
            for i in range(args.files)
        ]
        total_mb = sum(f.stat().st_size for f in files) / 1e6
        copy_dir = root / "copy"
        copy_dir.mkdir()
        t0 = time.perf_counter()
        for f in files:
            shutil.copyfile(f, copy_dir / f.name)
        t_copy = time.perf_counter() - t0
        settings = Settings(home=root / "home", database_url=args.database)
        platform = Platform(settings)
        initialise(platform)
        items = [IngestItem(f, CallMetadata(agent_code="A1")) for f in files]
        t0 = time.perf_counter()
        results = ingest_many(platform, items)
        t_ingest = time.perf_counter() - t0
        assert all(r.status == "created" for r in results), results
    print(
        f"{args.files} files × {args.seconds:.0f} s stereo 8 kHz WAV, {total_mb:.1f} MB, "
        f"database {'sqlite' if not args.database else args.database.split(':')[0]}"
    )
    print(f"{'':12}{'files/s':>10}{'MB/s':>10}{'ratio':>8}")
    print(f"{'copy':12}{args.files / t_copy:10.1f}{total_mb / t_copy:10.1f}{1:8.1f}")
    print(
        f"{'ingest':12}{args.files / t_ingest:10.1f}{total_mb / t_ingest:10.1f}"
        f"{t_ingest / t_copy:8.1f}"
    )


if __name__ == "__main__":
    main()
