"""Auto-QA over 100 000 analysed calls in PostgreSQL against a plain SELECT of the same flags.

    PYTHONPATH=. .venv/bin/python benchmarks/autoqa.py [--calls 100000] [--batch 2000] \
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--cold 2000]

1. Writes ``--calls`` synthetic analysed calls into a throw-away PostgreSQL database: the call
   rows, 0–3 flags each (types the judges read and others), and each call's auto evaluation
   under the default scorecard with its measured metrics (what the pipeline stage leaves).
2. Stores a new version of the scorecard (a judge changed) and times, in the same run:
   the baseline, a plain ``SELECT`` of every flag row of those calls, fetched; and
   ``qa autoqa rerun`` over every call (read calls, flags and stored metrics, judge, insert the
   new version's rows, commit per batch).
3. ``--cold N``: in process, the cost per call of measuring the metrics from a realistic
   transcript (what a rule-set change adds to the rerun), on ``benchmarks/flags.py``'s
   synthetic calls.
"""

from __future__ import annotations

import argparse
import platform as host
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select, text

from benchmarks.flags import fresh_postgres, synthetic_call
from qa_platform.flags import default_rule_set
from qa_platform.services.context import Platform
from qa_platform.settings import Settings
from scoring import services as svc
from scoring.call_metrics import measure
from scoring.scorecard import default_scorecard, scorecard_from_mapping, scorecard_to_mapping
from scoring.services import autoqa
from storage.migrate import upgrade
from storage.models import Call, CallFlag
from storage.models_autoqa import AutoEvaluationRow

FLAG_TYPES = [
    "missing_agent_id",
    "missing_greeting",
    "missing_closing",
    "missing_identity_check",
    "interruption",
    "abuse_agent",
    "misleading_promise",
    "long_silence",
    "complaint_risk",
    "asr_unreliable",
]
CHUNK = 5000


def _calls(ids: range, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "direction": "in" if i % 5 else "out",
            "business_type": "",
            "started_at": now - timedelta(minutes=i),
            "status": "analysed",
            "duration_s": 120.0 + i % 400,
            "channels": 2,
            "sample_rate": 8000,
            "audio_format": "wav",
            "retain_until": now + timedelta(days=1095),
            "created_at": now,
            "updated_at": now,
        }
        for i in ids
    ]


def _flags(ids: range, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i in ids:
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            start = rng.uniform(0, 100)
            rows.append(
                {
                    "call_id": i,
                    "type": rng.choice(FLAG_TYPES),
                    "severity": "warning",
                    "role": "agent",
                    "start": round(start, 3),
                    "end": round(start + rng.uniform(0.5, 8), 3),
                    "evidence": "坐席开场 10 秒内没有报工号：“您好，请问有什么可以帮您”",
                    "rule_set_version": default_rule_set().version,
                    "created_at": now,
                    "evidence_key": "missing_agent_id.none",
                    "evidence_params": {"window": 10},
                }
            )
    return rows


def _prior(ids: range, rng: random.Random, scorecard_id: int, now: datetime) -> list[dict]:
    rows = []
    for i in ids:
        values = {
            "agent_cpm": round(rng.uniform(80, 210), 1),
            "filler_per_minute": round(rng.uniform(0, 8), 2),
            "agent_personal_data": float(rng.random() < 0.01),
        }
        rows.append(
            {
                "call_id": i,
                "scorecard_id": scorecard_id,
                "rule_set_version": default_rule_set().version,
                "total": 100.0,
                "passed": True,
                "red_line": False,
                "items": [],
                "metrics": {"values": values, "evidence": {}},
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def populate(plat: Platform, n: int, seed: int) -> int:
    """The synthetic analysed calls, their flags and their first auto evaluation."""
    rng, now = random.Random(seed), datetime.now(UTC)
    with plat.uow() as uow:
        scorecard_id = autoqa.current_versions(uow.session).scorecard_id
        uow.commit()
    for start in range(1, n + 1, CHUNK):
        ids = range(start, min(n, start + CHUNK - 1) + 1)
        with plat.uow() as uow:
            uow.session.execute(insert(Call), _calls(ids, now))
            uow.session.execute(insert(CallFlag), _flags(ids, rng, now))
            uow.session.execute(insert(AutoEvaluationRow), _prior(ids, rng, scorecard_id, now))
            uow.commit()
    with plat.uow() as uow:
        uow.session.execute(text("ANALYZE"))
        uow.commit()
        return int(uow.session.scalar(select(text("count(*)")).select_from(CallFlag)) or 0)


def new_scorecard_version(plat: Platform) -> None:
    """Version 3 of the default card: the closing item also deducts for a missing 工号."""
    data = scorecard_to_mapping(default_scorecard()) | {"version": 3}
    for section in data["sections"]:
        for item in section["items"]:
            if item["code"] == "closing_phrase":
                item["auto"] = {"flags": ["missing_closing", "missing_agent_id"], "deduct": 2}
    svc.ensure_scorecard(plat.uow(), scorecard_from_mapping(data))


def plain_select(plat: Platform) -> tuple[float, int]:
    began = time.perf_counter()
    with plat.uow() as uow:
        rows = uow.session.execute(
            select(
                CallFlag.call_id, CallFlag.type, CallFlag.start, CallFlag.end, CallFlag.evidence
            ).order_by(CallFlag.call_id)
        ).all()
    return time.perf_counter() - began, len(rows)


def cold(n: int, seed: int) -> float:
    """Seconds per call to measure the metrics from a realistic transcript."""
    rng, rules = random.Random(seed), default_rule_set()
    calls = [synthetic_call(rng) for _ in range(n)]
    began = time.perf_counter()
    for transcript, features, direction in calls:
        measure(transcript, features, rules, direction=direction)
    return (time.perf_counter() - began) / max(n, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cold", type=int, default=2000)
    parser.add_argument(
        "--database", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    if not 1 <= args.calls <= 10_000_000 or not 1 <= args.batch <= 100_000:
        parser.error("--calls must be within 1..10 000 000 and --batch within 1..100 000")
    url, drop = fresh_postgres(args.database)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(home=Path(tmp), mode="test", database_url=url)
            settings.ensure_dirs()
            upgrade(url)
            plat = Platform(settings)
            began = time.perf_counter()
            flags = populate(plat, args.calls, args.seed)
            print(f"wrote {args.calls} calls, {flags} flags in {time.perf_counter() - began:.1f} s")
            new_scorecard_version(plat)
            select_s, rows = plain_select(plat)
            result = autoqa.rerun(plat, batch_size=args.batch)
            print(f"plain SELECT of the flags: {rows} rows in {select_s:.2f} s")
            print(
                f"auto-QA rerun: {result.calls} calls in {result.seconds:.2f} s "
                f"({result.calls / result.seconds:,.0f} calls/s, {result.seconds / select_s:.1f}× "
                f"the SELECT)"
            )
    finally:
        drop()  # type: ignore[operator]
    if args.cold:
        per_call = cold(args.cold, args.seed)
        print(
            f"measuring metrics from a transcript: {1000 * per_call:.2f} ms/call "
            f"(≈ {per_call * args.calls:.0f} s more for {args.calls} calls after a rule-set change)"
        )
    print(
        f"machine: {host.node()} {host.processor() or host.machine()}, Python {host.python_version()}"
    )


if __name__ == "__main__":
    main()
