"""The 机器结果 section of a report over N analysed calls in PostgreSQL, against a plain
``SELECT count(*)`` of the same calls and the former row-by-row read.

    PYTHONPATH=. .venv/bin/python benchmarks/report_machine.py [--calls 100000] \
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Writes ``--calls`` synthetic analysed calls with their flags and one auto evaluation each into
a throw-away database (``benchmarks/autoqa.py``'s loader), then times, three runs each:
the plain count; ``scoring.reports.machine.machine_groups`` over every call (the per-cell sums
in SQL, what each report snapshot runs); and, for comparison, fetching every call id with its
latest auto evaluation row by row (how the figures were read before).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from benchmarks.autoqa import populate
from benchmarks.flags import fresh_postgres
from qa_platform.services.context import Platform
from qa_platform.settings import Settings
from scoring.reports.machine import machine_groups
from storage.migrate import upgrade
from storage.models import Call
from storage.models_autoqa import AutoEvaluationRow


def best(fn, repeat: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - began)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument(
        "--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    if not 1 <= args.calls <= 10_000_000:
        parser.error("--calls must be within 1..10 000 000")
    url, drop = fresh_postgres(args.database)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(home=Path(tmp), mode="test", database_url=url)
            settings.ensure_dirs()
            upgrade(url)
            plat = Platform(settings)
            populate(plat, args.calls, 7)
            hi = datetime.now(UTC) + timedelta(days=1)
            lo = hi - timedelta(minutes=args.calls + 3000)

            def count() -> int:
                with plat.uow() as uow:
                    stmt = select(func.count()).where(Call.started_at >= lo, Call.started_at < hi)
                    return int(uow.session.scalar(stmt.select_from(Call)) or 0)

            def sums() -> object:
                with plat.uow() as uow:
                    return machine_groups(uow.session, lo, hi)

            def rows() -> int:
                with plat.uow() as uow:
                    stmt = select(
                        Call.id, AutoEvaluationRow.updated_at, AutoEvaluationRow.total
                    ).outerjoin(AutoEvaluationRow, AutoEvaluationRow.call_id == Call.id)
                    return len(uow.session.execute(stmt.where(Call.started_at >= lo)).all())

            count_s, n = best(count)
            sums_s, groups = best(sums)
            rows_s, fetched = best(rows)
            centre = groups.centre  # type: ignore[attr-defined]
            print(f"plain count: {n} calls in {count_s:.3f} s")
            print(f"machine_groups (SQL sums): {centre.judged} judged in {sums_s:.3f} s")
            print(f"row-by-row fetch of calls + auto evaluations: {fetched} rows in {rows_s:.3f} s")
    finally:
        drop()  # type: ignore[operator]


if __name__ == "__main__":
    main()
