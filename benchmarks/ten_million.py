"""Ten million calls (issue 16): the monthly report and a sampling frame at a year's volume.

    .venv/bin/python benchmarks/ten_million.py [--calls 10000000] [--repeat 3] [--keep]

Creates a throw-away PostgreSQL database (postgres@127.0.0.1, trust), migrates it and fills it
server-side with ``INSERT … SELECT FROM generate_series`` (no Python rows): 12 teams, 480 agents,
N calls spread evenly over the twelve months of 2026 (Shanghai time; 95 % analysed, 6 business
types, 60 % with a satisfaction score) and flags on 10 % of the calls (1–2 of 8 types). Then,
best of ``--repeat``, each beside a plain ``SELECT count(*)`` over the same month (October):

* (a) the monthly report's volume queries as the code runs them today
  (``load_call_counts`` + ``load_flag_counts``), and the whole ``compute_report(monthly)``;
* (b) a sampling run's frame selection (``load_frame``: analysed calls of October, ids
  ascending), and the whole ``run_sampling`` simple random.

Prints ``EXPLAIN (ANALYZE, BUFFERS)`` of each big statement, and the ratios.
"""

from __future__ import annotations

import argparse
import os
import platform as host
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEAMS, AGENTS = 12, 480
MONTH = date(2026, 10, 1)
YEAR_START = "2025-12-31 16:00:00+00"  # 2026-01-01 00:00 Shanghai
YEAR_SECONDS = 365 * 86400
NOW = datetime(2026, 11, 20, tzinfo=UTC)
BUSINESS = "ARRAY['理赔','保全','咨询','投诉','续期','销售']"
FLAGS = (
    "ARRAY['long_silence','ultra_short','abuse_customer','missing_greeting',"
    "'complaint_risk','speech_rate','filler_words','misleading_promise']"
)


def create_database() -> tuple[str, str]:
    name = f"qa_bench_tenm_{secrets.token_hex(3)}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


FILL = [
    f"INSERT INTO teams (id, name, created_at) SELECT t, t || '组', now() "
    f"FROM generate_series(1, {TEAMS}) t",
    "INSERT INTO users (id, username, role, display_name, active, created_at) "
    "VALUES (1, 'sup', 'supervisor', '', true, now())",
    f"INSERT INTO users (id, username, role, team_id, agent_code, display_name, active, "
    f"created_at) SELECT 100 + a, 'agent' || a, 'agent', a % {TEAMS} + 1, 'A' || (1000 + a), '', "
    f"true, now() FROM generate_series(0, {AGENTS - 1}) a",
    # calls: g spread evenly over the year; a multiplicative hash picks agent/type/status
    f"INSERT INTO calls (id, agent_code, agent_id, team_id, direction, business_type, started_at,"
    f" satisfaction, status, duration_s, channels, sample_rate, audio_format, original_filename,"
    f" retention_class, retain_until, legal_hold, created_at, updated_at) "
    f"SELECT g, 'A' || (1000 + g % {AGENTS}), 100 + g % {AGENTS}, g % {AGENTS} % {TEAMS} + 1,"
    f" CASE WHEN g % 3 = 0 THEN 'out' ELSE 'in' END, ({BUSINESS})[(g * 7919) % 6 + 1],"
    f" timestamptz '{YEAR_START}' + make_interval(secs => (g - 1)::float8 * {YEAR_SECONDS} / :n),"
    f" CASE WHEN (g * 104729) % 10 < 6 THEN (g * 31) % 5 + 1 END,"
    f" CASE WHEN (g * 7907) % 20 = 0 THEN 'failed' ELSE 'analysed' END, 60 + g % 600, 2, 8000,"
    f" 'wav', '', 'standard', timestamptz '2029-12-31 00:00+00', false, now(), now() "
    f"FROM generate_series(1::bigint, :n) g",
    f'INSERT INTO call_flags (call_id, type, severity, role, start, "end", evidence,'
    f" rule_set_version, created_at) "
    f"SELECT g, ({FLAGS})[(g / 10 * 13) % 8 + 1], 'medium', 'agent', 1.0, 5.0, 'x', 'rules-v1',"
    f" now() FROM generate_series(10::bigint, :n, 10) g",
    f'INSERT INTO call_flags (call_id, type, severity, role, start, "end", evidence,'
    f" rule_set_version, created_at) "
    f"SELECT g, ({FLAGS})[(g / 10 * 13 + 3) % 8 + 1], 'high', 'agent', 9.0, 12.0, 'y',"
    f" 'rules-v1', now() FROM generate_series(10::bigint, :n, 40) g",
    "SELECT setval(pg_get_serial_sequence('calls', 'id'), (SELECT max(id) FROM calls))",
    "SELECT setval(pg_get_serial_sequence('users', 'id'), 1000)",
    "SELECT setval(pg_get_serial_sequence('teams', 'id'), 100)",
]


INDEXES = (
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('calls', 'call_flags') "
    "AND indexname LIKE 'ix_%' ORDER BY indexname"
)


def fill(url: str, n: int) -> float:
    """Fill the database server-side; returns seconds (not part of the timed runs)."""
    from storage.db import make_engine

    t0 = time.perf_counter()
    engine = make_engine(url)
    with engine.begin() as conn:
        # bulk-load practice: no per-row FK triggers, secondary indexes built once afterwards
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        indexes = conn.execute(text(INDEXES)).all()
        for index_name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{index_name}"'))
        for sql in FILL:
            conn.execute(text(sql), {"n": n})
        for _, definition in indexes:
            conn.execute(text(definition))
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - t0


def explain(url: str, stmt: Any, tune: bool = True) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of a SQLAlchemy statement, under the report's SET LOCALs."""
    from storage.db import make_engine

    engine = make_engine(url)
    compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if tune:
            cur.execute("SET LOCAL jit = off")
            cur.execute("SET LOCAL work_mem = '64MB'")
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params)
        plan = "\n".join(r[0] for r in cur.fetchall())
        raw.rollback()
        return plan
    finally:
        raw.close()
        engine.dispose()


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def rollup_stmt(period: Any) -> Any:
    """The roll-up's call-count query of a period (for EXPLAIN)."""
    from sqlalchemy import func, select

    from storage.models_rollups import DailyCallRollup as R

    cell = (R.team_id, R.agent_id, R.agent_code, R.business_type)
    return (
        select(*cell, func.sum(R.received), func.sum(R.analysed), func.sum(R.flagged))
        .where(R.day >= period.start, R.day < period.end)
        .group_by(*cell)
    )


def time_rollup(settings: Any, month: date, now: datetime, repeat: int) -> dict[str, Any]:
    """Rebuild the roll-ups once, then time the volume figures and the report through them."""
    from scoring.reports import compute_report, period_for
    from scoring.reports.queries import Names, load_volume
    from scoring.reports.snapshots import centre_tz
    from storage import rollups
    from storage.uow import UnitOfWork

    tz = centre_tz(settings)
    period = period_for("monthly", month)

    def rebuild() -> str:
        with UnitOfWork(settings) as uow:
            out = rollups.rebuild(uow.session, tz.key, now)
            uow.commit()
            return f"{out.call_rows} call rows, {out.flag_rows} flag rows over {out.days} days"

    def volume(use_rollup: bool) -> Any:
        with UnitOfWork(settings) as uow:
            # the report's own SET LOCALs: under the default 4 MB work_mem the raw IN over a
            # year's flags is not hashed and the raw side runs for minutes
            uow.session.execute(text("SET LOCAL jit = off"))
            uow.session.execute(text("SET LOCAL work_mem = '64MB'"))
            return load_volume(uow.session, period, tz, Names.load(uow.session), use_rollup)

    out = {"rebuild": best(rebuild, 1)}
    out["volume_rollup"] = best(lambda: volume(True), repeat)
    out["report_rollup"] = best(
        lambda: compute_report(UnitOfWork(settings), "monthly", month, now=now), repeat
    )
    out["same"] = (0.0, volume(True) == volume(False))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rollup", action="store_true", help="also rebuild and time roll-ups")
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = parser.parse_args()
    if not 1_000 <= args.calls <= 50_000_000:
        parser.error("--calls must be between 1 000 and 50 000 000")

    from sqlalchemy import select

    from qa_platform.settings import Settings
    from scoring.plan import PlanFilters, SamplingPlan
    from scoring.reports import compute_report, period_for
    from scoring.reports.queries import (
        Names,
        call_counts_stmt,
        flag_counts_stmt,
        load_call_counts,
        load_flag_counts,
    )
    from scoring.reports.snapshots import centre_tz
    from scoring.services import run_sampling
    from scoring.services.runs import _frame_conditions, load_frame
    from storage.db import make_engine
    from storage.migrate import upgrade
    from storage.models import Call
    from storage.uow import UnitOfWork

    name, url = create_database()
    try:
        upgrade(url)
        fill_s = fill(url, args.calls)
        settings = Settings(mode="test", database_url=url)
        tz = centre_tz(settings)
        period = period_for("monthly", MONTH)
        lo, hi = period.utc_bounds(tz)
        engine = make_engine(url)

        def count_month() -> int:
            with engine.connect() as conn:
                sql = "SELECT count(*) FROM calls WHERE started_at >= :lo AND started_at < :hi"
                return int(conn.execute(text(sql), {"lo": lo, "hi": hi}).scalar_one())

        def volume_queries() -> int:
            with UnitOfWork(settings) as uow:
                s = uow.session
                s.execute(text("SET LOCAL jit = off"))
                s.execute(text("SET LOCAL work_mem = '64MB'"))
                names = Names.load(s)
                calls = load_call_counts(s, lo, hi, names)
                flags, _rules = load_flag_counts(s, lo, hi, names)
                return sum(c.received for c in calls) + len(flags)

        def report() -> Any:
            return compute_report(UnitOfWork(settings), "monthly", MONTH, now=NOW)

        filters = PlanFilters(period_start=MONTH, period_end=date(2026, 10, 31), analysed_only=True)
        plan = SamplingPlan("bench", margin=0.05, filters=filters)

        def frame() -> int:
            with UnitOfWork(settings) as uow:
                return load_frame(uow, plan).size

        def sampling_run() -> Any:
            return run_sampling(UnitOfWork(settings), plan, seed=1)

        count_month()  # warm the cache
        results = {}
        for key, fn in [
            ("count", count_month),
            ("volume", volume_queries),
            ("report", report),
            ("frame", frame),
            ("run", sampling_run),
        ]:
            results[key] = best(fn, args.repeat)
        rollup = time_rollup(settings, MONTH, NOW, args.repeat) if args.rollup else {}
        results |= rollup
        with UnitOfWork(settings) as uow:
            frame_stmt = select(Call.id).where(*_frame_conditions(uow, filters)).order_by(Call.id)
        base = results["count"][0]
        la = os.getloadavg()
        print(
            f"machine: {host.node()} ({os.cpu_count()} cores), load average {la[0]:.2f} "
            f"{la[1]:.2f} {la[2]:.2f}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
        )
        print(
            f"calls: {args.calls} over 2026, filled in {fill_s:.1f} s (generate_series, indexes built after)"
        )
        print(f"October calls: {results['count'][1]}, frame size: {results['frame'][1]}")
        print(f"| | best of {args.repeat} | ratio to count(*) |")
        print("|---|---|---|")
        labels = {
            "count": "`SELECT count(*)` over October's calls (baseline)",
            "volume": "report volume queries (call counts + flag counts)",
            "report": "`compute_report(monthly)` October",
            "frame": "sampling frame selection (`load_frame`)",
            "run": "`run_sampling` simple random",
            "rebuild": "`qa report rollup --rebuild` (whole year, once)",
            "volume_rollup": "report volume from the roll-up (call + flag counts)",
            "report_rollup": "`compute_report(monthly)` October, roll-up complete",
        }
        for key, label in labels.items():
            if key not in results:
                continue
            print(f"| {label} | {results[key][0]:.3f} s | {results[key][0] / base:.1f} × |")
        for title, stmt in [
            ("call counts", call_counts_stmt(lo, hi)),
            ("flag counts", flag_counts_stmt(lo, hi)),
            ("sampling frame", frame_stmt),
        ]:
            print(f"\n-- EXPLAIN (ANALYZE, BUFFERS): {title}")
            print(explain(url, stmt))
        if rollup:
            print(f"\nroll-up figures equal raw figures: {rollup['same'][1]}")
            print(f"roll-up rows: {rollup['rebuild'][1]}")
            print("\n-- EXPLAIN (ANALYZE, BUFFERS): roll-up call counts")
            print(explain(url, rollup_stmt(period)))
        engine.dispose()
        if args.keep:
            print(f"kept: {url}")
    finally:
        if not args.keep:
            drop_database(name)


if __name__ == "__main__":
    main()
