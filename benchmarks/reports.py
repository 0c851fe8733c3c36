"""Monthly quality report over 1 000 000 calls and 50 000 evaluations in PostgreSQL.

    .venv/bin/python benchmarks/reports.py [--calls 1000000] [--evaluations 50000] [--repeat 3]
                                           [--keep]

Creates a throw-away database on the local server (QA_TEST_PG_URL or postgres@127.0.0.1),
migrates it, bulk-loads with COPY: teams, agents, inspectors, the default scorecard, calls of
October 2026 (Shanghai time; 95 % analysed, 60 % with a satisfaction score), flags on ~10 % of
calls, evaluations (90 % random stream) with their versions (2 % revised on appeal), every
item score of every version, and appeals. Then times, in the same run:

* baseline: ``SELECT count(*)`` over the month's calls;
* ``compute_report(monthly)``: every SQL aggregate, the Python metrics over the sample, the
  trend, the snapshot row and its audit event (first run writes version 1; repeats find the
  same figures and write nothing).
"""

from __future__ import annotations

import argparse
import io
import json
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_platform.settings import Settings
from scoring.reports import compute_report, period_for
from scoring.scorecard import default_scorecard, scorecard_to_mapping
from storage.db import make_engine
from storage.migrate import upgrade
from storage.uow import UnitOfWork

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MONTH = date(2026, 10, 1)
NOW = datetime(2026, 11, 20, tzinfo=UTC)
TEAMS, AGENTS, INSPECTORS = 12, 480, 24
BUSINESS = ["理赔", "保全", "咨询", "投诉", "续期", "销售"]
FLAGS = [
    "long_silence",
    "ultra_short",
    "abuse_customer",
    "missing_greeting",
    "complaint_risk",
    "speech_rate",
    "filler_words",
    "misleading_promise",
]


def copy(conn, table: str, columns: list[str], lines: list[str]) -> None:
    """COPY tab-separated lines into ``table`` (\\N is NULL)."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
        buf = io.StringIO()
        for n, line in enumerate(lines, 1):
            buf.write(line)
            buf.write("\n")
            if n % 200_000 == 0:
                cp.write(buf.getvalue())
                buf = io.StringIO()
        cp.write(buf.getvalue())


def load_people(conn, now: str) -> None:
    copy(
        conn,
        "teams",
        ["id", "name", "created_at"],
        [f"{t + 1}\t{t + 1}组\t{now}" for t in range(TEAMS)],
    )
    users = ["1\tsup\tsupervisor\t\\N\t\\N"]
    users += [f"{10 + i}\tins{i}\tinspector\t\\N\t\\N" for i in range(INSPECTORS)]
    users += [f"{100 + a}\tagent{a}\tagent\t{a % TEAMS + 1}\tA{1000 + a}" for a in range(AGENTS)]
    copy(
        conn,
        "users",
        ["id", "username", "role", "team_id", "agent_code", "display_name", "active", "created_at"],
        [f"{u}\t\tt\t{now}" for u in users],
    )


def load_calls(conn, rng: np.random.Generator, n: int, now: str) -> tuple[np.ndarray, np.ndarray]:
    """n calls spread over October (local), returns agent index and analysed mask per call."""
    lo = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)  # 2026-10-01 00:00 Shanghai
    seconds = rng.integers(0, 31 * 86400, n)
    agent = rng.integers(0, AGENTS, n)
    analysed = rng.random(n) < 0.95
    sat = np.where(rng.random(n) < 0.6, rng.integers(1, 6, n), 0)
    btype = rng.integers(0, len(BUSINESS), n)
    lines = []
    for i in range(n):
        started = (lo + timedelta(seconds=int(seconds[i]))).isoformat()
        a = int(agent[i])
        s = str(int(sat[i])) if sat[i] else "\\N"
        lines.append(
            f"{i + 1}\tA{1000 + a}\t{100 + a}\t{a % TEAMS + 1}\tin\t{BUSINESS[btype[i]]}\t{started}\t"
            f"{s}\t{'analysed' if analysed[i] else 'failed'}\t180\t2\t8000\twav\t\tstandard\t"
            f"2029-10-01T00:00:00+00:00\tf\t{now}\t{now}"
        )
    cols = [
        "id",
        "agent_code",
        "agent_id",
        "team_id",
        "direction",
        "business_type",
        "started_at",
        "satisfaction",
        "status",
        "duration_s",
        "channels",
        "sample_rate",
        "audio_format",
        "original_filename",
        "retention_class",
        "retain_until",
        "legal_hold",
        "created_at",
        "updated_at",
    ]
    copy(conn, "calls", cols, lines)
    return agent, analysed


def load_flags(conn, rng: np.random.Generator, n: int, now: str) -> int:
    flagged = np.flatnonzero(rng.random(n) < 0.10) + 1
    lines = []
    for call in flagged:
        for t in rng.choice(len(FLAGS), size=int(rng.integers(1, 3)), replace=False):
            lines.append(f"{call}\t{FLAGS[t]}\tmedium\tagent\t1.0\t5.0\tx\trules-v1\t{now}")
    copy(
        conn,
        "call_flags",
        [
            "call_id",
            "type",
            "severity",
            "role",
            "start",
            '"end"',
            "evidence",
            "rule_set_version",
            "created_at",
        ],
        lines,
    )
    return len(lines)


def load_evaluations(
    conn, rng: np.random.Generator, analysed: np.ndarray, agent: np.ndarray, m: int, now: str
) -> int:
    """m evaluations of analysed calls with versions, item scores and appeals; returns items."""
    card = default_scorecard()
    conn.execute(
        text(
            "INSERT INTO scorecards (id, name, version, fingerprint, definition, active, created_at) "
            "VALUES (1, :n, 1, :f, :d, true, :t)"
        ),
        {
            "n": card.name,
            "f": card.fingerprint,
            "d": json.dumps(scorecard_to_mapping(card), ensure_ascii=False),
            "t": now,
        },
    )
    calls = rng.choice(np.flatnonzero(analysed) + 1, size=m, replace=False)
    revised = rng.random(m) < 0.02
    appealed = revised | (rng.random(m) < 0.03)
    state = np.where(appealed & ~revised & (rng.random(m) < 0.3), "appealed", "final")
    ev_lines, ver_lines, item_lines, appeal_lines = [], [], [], []
    vid = 0
    for e in range(m):
        eid, call = e + 1, int(calls[e])
        stream = "random" if e % 10 else "targeted"
        versions = 2 if revised[e] else 1
        for number in range(1, versions + 1):
            vid += 1
            total, passed, red, errors = _items(rng, card, vid, item_lines, better=number == 2)
            ver_lines.append(
                f"{vid}\t{eid}\t{number}\t1\t{total}\t{passed}\t{json.dumps(red)}\t"
                f"{json.dumps(errors)}\t10\t\t{now}"
            )
        ev_lines.append(
            f"{eid}\t{call}\t{stream}\t{100 + int(agent[call - 1])}\t{10 + e % INSPECTORS}\t1\t"
            f"{state[e]}\t1\t{versions}\t{{}}\t\t{total}\t{passed}\t{now}\t{now}\t{now}\t{now}"
        )
        if appealed[e]:
            decision = "revised" if revised[e] else ("\\N" if state[e] == "appealed" else "upheld")
            appeal_lines.append(
                f"{eid}\t1\t{100 + int(agent[call - 1])}\t{now}\t异议\t[]\t{decision}\t"
            )
    copy(
        conn,
        "evaluations",
        [
            "id",
            "call_id",
            "stream",
            "agent_id",
            "inspector_id",
            "scorecard_id",
            "state",
            "row_version",
            "current_version",
            "draft",
            "return_reason",
            "total",
            "passed",
            "published_at",
            "appeal_deadline",
            "created_at",
            "updated_at",
        ],
        ev_lines,
    )
    copy(
        conn,
        "evaluation_versions",
        [
            "id",
            "evaluation_id",
            "number",
            "scorecard_id",
            "total",
            "passed",
            "red_line_violations",
            "category_errors",
            "author_id",
            "reason",
            "created_at",
        ],
        ver_lines,
    )
    copy(
        conn,
        "evaluation_item_scores",
        ["version_id", "item_code", "category", "score", "max_points", "na", "violated"],
        item_lines,
    )
    copy(
        conn,
        "appeals",
        [
            "evaluation_id",
            "number",
            "filed_by",
            "filed_at",
            "reason",
            "disputed_items",
            "decision",
            "note",
        ],
        appeal_lines,
    )
    return len(item_lines)


def _items(
    rng, card, vid: int, out: list[str], better: bool
) -> tuple[float, bool, list[str], dict]:
    earned = possible = 0.0
    red: list[str] = []
    errors = {
        "business_accuracy": False,
        "compliance": False,
        "attitude": False,
        "initiative": False,
        "etiquette": False,
    }
    for item in card.items:
        cat = str(item.category)
        if item.red_line:
            violated = not better and rng.random() < 0.01
            red += [item.code] if violated else []
            errors[cat] |= violated
            out.append(f"{vid}\t{item.code}\t{cat}\t\\N\t0\tf\t{'t' if violated else 'f'}")
            continue
        if item.na_allowed and rng.random() < 0.2:
            out.append(f"{vid}\t{item.code}\t{cat}\t\\N\t{item.points}\tt\tf")
            continue
        score = item.points if better or rng.random() > 0.08 else round(item.points / 2, 1)
        errors[cat] |= score < item.points
        earned, possible = earned + score, possible + item.points
        out.append(f"{vid}\t{item.code}\t{cat}\t{score}\t{item.points}\tf\tf")
    total = 0.0 if red else round(100 * earned / possible, 4)
    return total, (not red and total >= card.pass_mark), red, errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--evaluations", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"qa_bench_reports_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        run(url, args)
    finally:
        make_engine(url).dispose()
        if not args.keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(url: str, args: argparse.Namespace) -> None:
    upgrade(url)
    rng = np.random.default_rng(20261001)
    now = NOW.isoformat()
    t0 = time.perf_counter()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h) ON CONFLICT DO NOTHING"),
            {"h": "0" * 64},
        )
        load_people(conn, now)
        agent, analysed = load_calls(conn, rng, args.calls, now)
        flags = load_flags(conn, rng, args.calls, now)
        items = load_evaluations(conn, rng, analysed, agent, args.evaluations, now)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    load_s = time.perf_counter() - t0
    print(
        f"loaded {args.calls} calls, {flags} flags, {args.evaluations} evaluations, "
        f"{items} item scores in {load_s:.1f} s"
    )
    lo, hi = period_for("monthly", MONTH).utc_bounds(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    )
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), database_url=url)
        base, rep = [], []
        for _ in range(args.repeat):
            t = time.perf_counter()
            with engine.connect() as conn:
                count = conn.execute(
                    text("SELECT count(*) FROM calls WHERE started_at >= :lo AND started_at < :hi"),
                    {"lo": lo, "hi": hi},
                ).scalar()
            base.append(time.perf_counter() - t)
            t = time.perf_counter()
            snap = compute_report(UnitOfWork(settings), "monthly", MONTH, now=NOW)
            rep.append(time.perf_counter() - t)
            print(
                f"count(*) {base[-1]:.3f} s ({count} calls)   report {rep[-1]:.3f} s "
                f"(v{snap['version']}, created={snap['created']})"
            )
    c = snap["payload"]["centre"]
    print(
        f"centre: received {c['calls_received']} analysed {c['calls_analysed']} sample "
        f"{c['sample_size']} mean {c['mean_score']:.2f} [{c['mean_score_ci_low']:.2f}, "
        f"{c['mean_score_ci_high']:.2f}] 业务准确率 {c['business_accuracy']:.4f}"
    )
    print(
        f"first report {rep[0]:.3f} s, median {statistics.median(rep):.3f} s; "
        f"count(*) median {statistics.median(base):.3f} s; ratio (median) "
        f"{statistics.median(rep) / statistics.median(base):.1f}x"
    )


if __name__ == "__main__":
    main()
