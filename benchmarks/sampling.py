"""Benchmark: a sampling run over 1 000 000 calls in PostgreSQL (issue 5).

Creates a throw-away database, migrates it, bulk-loads N calls with COPY (not timed), then
times, best of ``--repeat``:

* baseline: ``SELECT id FROM calls WHERE <frame filter> ORDER BY id`` fetched into Python with
  a plain psycopg cursor — the least any run must do to see its frame;
* ``run_sampling`` simple random (n from the calculator: ±5 % at 95 %), including frame
  freeze (fetch, order check, SHA-256), draw, storing the run and its items, the audit event,
  commit;
* ``run_sampling`` stratified proportional by business type (fetches a stratum per call).

Usage: .venv/bin/python benchmarks/sampling.py [--calls 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import platform as host
import secrets
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, text

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def create_database() -> tuple[str, str]:
    name = f"qa_bench_sampling_{secrets.token_hex(3)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def load_calls(url: str, n: int) -> float:
    """COPY n calls spread over March 2026; 90 % analysed. Returns seconds (not part of the run)."""
    from storage.db import make_engine

    start = datetime(2026, 3, 1, tzinfo=UTC)
    cols = (
        "id, direction, business_type, started_at, status, duration_s, channels, sample_rate, "
        "audio_format, original_filename, retention_class, retain_until, legal_hold, created_at, updated_at"
    )
    t0 = time.perf_counter()
    raw = make_engine(url).raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY calls ({cols}) FROM STDIN") as copy:
            buf = io.StringIO()
            for i in range(1, n + 1):
                at = (start + timedelta(seconds=(i * 2.6) % (31 * 86400))).isoformat()
                status = "analysed" if i % 10 else "queued"
                btype = ("claims", "policy", "sales", "renewal")[i % 4]
                buf.write(
                    f"{i}\t{'in' if i % 3 else 'out'}\t{btype}\t{at}\t{status}\t{60 + i % 600}\t2\t8000\t"
                    f"wav\t\tstandard\t2029-03-01T00:00:00+00:00\tf\t{at}\t{at}\n"
                )
                if i % 50_000 == 0:
                    copy.write(buf.getvalue())
                    buf = io.StringIO()
            copy.write(buf.getvalue())
        cur.execute("SELECT setval(pg_get_serial_sequence('calls', 'id'), %s)", (n,))
        cur.execute("ANALYZE calls")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from qa_platform.settings import Settings
    from scoring.plan import PlanFilters, SamplingPlan
    from scoring.services import run_sampling
    from storage.db import make_engine
    from storage.migrate import upgrade
    from storage.uow import UnitOfWork

    name, url = create_database()
    try:
        upgrade(url)
        load_s = load_calls(url, args.calls)
        settings = Settings(mode="test", database_url=url)
        period = PlanFilters(period_start=date(2026, 3, 1), period_end=date(2026, 3, 31))
        srs = SamplingPlan("bench", margin=0.05, filters=period)
        strat = SamplingPlan(
            "bench-strat",
            method="stratified_proportional",
            stratify_by="business_type",
            margin=0.05,
            filters=period,
        )

        frame_sql = (
            "SELECT id FROM calls WHERE purged_at IS NULL AND status = 'analysed' AND "
            "started_at >= %(a)s AND started_at < %(b)s ORDER BY id"
        )
        bounds = {
            "a": datetime(2026, 2, 28, 16, tzinfo=UTC),
            "b": datetime(2026, 3, 31, 16, tzinfo=UTC),
        }

        def baseline() -> int:
            """The floor: the frame query through a plain psycopg cursor, ids into a list."""
            raw = make_engine(url).raw_connection()
            try:
                cur = raw.cursor()
                cur.execute(frame_sql, bounds)
                return len([r[0] for r in cur.fetchall()])
            finally:
                raw.close()

        def baseline_sqlalchemy() -> int:
            """The same query through SQLAlchemy's result layer (``.scalars().all()``)."""
            with make_engine(url).connect() as conn:
                sql = text(frame_sql.replace("%(a)s", ":a").replace("%(b)s", ":b"))
                return len(conn.execute(sql, bounds).scalars().all())

        with make_engine(
            url
        ).connect() as conn:  # settle the freshly loaded table (hint bits, stats)
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE calls")
            )
        baseline()  # warm the cache: every variant below reads the same pages
        timings: dict[str, list[float]] = {"base": [], "base_sa": [], "srs": [], "strat": []}
        variants = {
            "base": baseline,
            "base_sa": baseline_sqlalchemy,
            "srs": lambda: run_sampling(UnitOfWork(settings), srs, seed=1),
            "strat": lambda: run_sampling(UnitOfWork(settings), strat, seed=1),
        }
        outputs: dict[str, object] = {}
        for _ in range(args.repeat):  # interleaved, so drift on a shared machine hits all alike
            for key, fn in variants.items():
                t0 = time.perf_counter()
                out = fn()
                timings[key].append(time.perf_counter() - t0)
                outputs[key] = out
                del out
        base_s, sa_s, srs_s, strat_s = (
            min(timings[k]) for k in ("base", "base_sa", "srs", "strat")
        )
        n_ids, run, run2 = outputs["base"], outputs["srs"], outputs["strat"]
        print(f"machine: {host.node()} ({host.processor() or host.machine()}), date {date.today()}")
        print(f"calls loaded: {args.calls} in {load_s:.1f} s (COPY, not timed below)")
        print(f"frame size: {run['frame_size']} (baseline fetched {n_ids} ids)")
        print(f"| baseline: frame query, psycopg cursor | {base_s:.3f} s | 1.00 |")
        print(f"| same query, SQLAlchemy .scalars().all() | {sa_s:.3f} s | {sa_s / base_s:.2f} |")
        print(
            f"| run_sampling simple random, n={run['sample_size']} | {srs_s:.3f} s | {srs_s / base_s:.2f} |"
        )
        print(
            f"| run_sampling stratified by business type, n={run2['sample_size']} | {strat_s:.3f} s | "
            f"{strat_s / base_s:.2f} |"
        )
    finally:
        make_engine(url).dispose()
        drop_database(name)


if __name__ == "__main__":
    main()
