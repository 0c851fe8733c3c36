"""Demo history (演示历史数据): eight weeks of generated calls, flags and evaluations.

The real demo has a handful of recordings, too few for any report. This module writes, as
metadata only (no audio), several thousand plausible calls of the demo's agents over the last
eight weeks, with audio features, abnormal-call flags, published evaluations by the demo's
inspectors (a few red lines), appeals and their decisions, then computes the daily, weekly and
monthly report snapshots. Every generated call is marked: ``external_id`` ``GEN-<seed>-<n>``,
``audio_format`` and ``original_filename`` ``generated``. The same seed writes the same history;
running it again over an existing history does nothing.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from qa_platform.domain.errors import Invalid
from qa_platform.services.context import Platform
from qa_platform.services.demo_history_calls import (
    GENERATED,
    call_row,
    features_of,
    flags_of,
    started_at,
)
from scoring.scorecard import ItemResult, Scorecard, default_scorecard
from storage.audit import append_audit
from storage.models import Call, CallFlag, User
from storage.models_pipeline import CallFeatures
from storage.models_scoring import (
    AppealRow,
    EvaluationRow,
    EvaluationVersionRow,
    ItemScoreRow,
)

WEEKS = 8
EVALUATED_SHARE = 0.08  # of the calls, sampled and scored
APPEAL_SHARE = 0.06  # of the published evaluations
RED_LINE_SHARE = 0.02  # of the scored calls (centres see 1–2 %; a handful in eight weeks)


class HistoryError(Invalid):
    """The history cannot be generated as asked."""


@dataclass(frozen=True)
class HistoryReport:
    """What :func:`generate_history` wrote (calls, flags, evaluations, appeals, snapshots)."""

    seed: int
    first_day: date
    last_day: date
    calls: int
    flags: int
    evaluations: int
    red_lines: int
    appeals: int
    snapshots: dict[str, int]
    seconds: float
    skipped: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "calls": self.calls,
            "flags": self.flags,
            "evaluations": self.evaluations,
            "red_lines": self.red_lines,
            "appeals": self.appeals,
            "snapshots": dict(self.snapshots),
            "seconds": round(self.seconds, 2),
            "skipped": self.skipped,
        }


@dataclass
class _People:
    agents: list[tuple[int, str, int | None]]  # id, agent code, team id
    inspectors: list[int]
    supervisor: int


@dataclass
class _Rows:
    calls: list[dict[str, Any]] = field(default_factory=list)
    features: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    appeals: list[dict[str, Any]] = field(default_factory=list)
    red_lines: int = 0


def _people(s: Session, supervisor: str) -> _People:
    agents = [
        (u.id, u.agent_code or "", u.team_id)
        for u in s.scalars(select(User).where(User.role == "agent").order_by(User.id))
    ]
    inspectors = list(s.scalars(select(User.id).where(User.role == "inspector").order_by(User.id)))
    sup = s.scalar(select(User.id).where(User.username == supervisor))
    if not agents or len(inspectors) < 2 or sup is None:
        raise HistoryError(
            "the demo history needs agents, at least 2 inspectors and the supervisor "
            f"{supervisor!r}: create the demo people first"
        )
    return _People(agents, inspectors, sup)


def _results(rng: random.Random, card: Scorecard, red_line: bool) -> list[ItemResult]:
    results = []
    red_done = False
    for item in card.items:
        if item.red_line:
            violated = red_line and not red_done
            red_done = red_done or violated
            results.append(ItemResult(item.code, violated=violated))
        elif item.na_allowed and rng.random() < 0.1:
            results.append(ItemResult(item.code, na=True))
        elif rng.random() < 0.82:
            results.append(ItemResult(item.code, float(item.points)))
        else:
            low = round(item.points * rng.uniform(0.2, 0.8) * 2) / 2
            results.append(ItemResult(item.code, low))
    return results


def _version(
    rows: _Rows,
    card: Scorecard,
    vid: int,
    eid: int,
    number: int,
    results: list[ItemResult],
    author: int,
    at: datetime,
    scorecard_id: int,
    reason: str = "",
) -> tuple[float, bool]:
    score = card.score(results)
    rows.versions.append(
        {
            "id": vid,
            "evaluation_id": eid,
            "number": number,
            "scorecard_id": scorecard_id,
            "total": score.total,
            "passed": score.passed,
            "red_line_violations": list(score.red_line_violations),
            "category_errors": dict(score.category_errors),
            "author_id": author,
            "reason": reason,
            "created_at": at,
        }
    )
    by_code = {i.code: i for i in card.items}
    for r in results:
        item = by_code[r.code]
        rows.items.append(
            {
                "version_id": vid,
                "item_code": r.code,
                "category": str(item.category),
                "score": r.score,
                "max_points": float(item.points),
                "na": r.na,
                "violated": r.violated,
            }
        )
    return score.total, score.passed


@dataclass
class _Ids:
    evaluation: int
    version: int


def _evaluate(
    rng: random.Random,
    rows: _Rows,
    ids: _Ids,
    card: Scorecard,
    scorecard_id: int,
    call: dict[str, Any],
    flagged: bool,
    people: _People,
    now: datetime,
) -> None:
    """A published evaluation of ``call`` (random or targeted stream), maybe appealed."""
    ids.evaluation += 1
    ids.version += 1
    eid, inspector = ids.evaluation, rng.choice(people.inspectors)
    published = call["started_at"] + timedelta(hours=rng.uniform(20, 60))
    red = rng.random() < RED_LINE_SHARE
    rows.red_lines += red
    results = _results(rng, card, red)
    total, passed = _version(
        rows, card, ids.version, eid, 1, results, inspector, published, scorecard_id
    )
    row = {
        "id": eid,
        "call_id": call["id"],
        "sampled_item_id": None,
        "stream": "targeted" if flagged and rng.random() < 0.5 else "random",
        "agent_id": call["agent_id"],
        "inspector_id": inspector,
        "scorecard_id": scorecard_id,
        "state": "published",
        "row_version": 1,
        "current_version": 1,
        "draft": {},
        "return_reason": "",
        "total": total,
        "passed": passed,
        "published_at": published,
        "appeal_deadline": published + timedelta(days=5),
        "created_at": published - timedelta(hours=2),
        "updated_at": published,
    }
    rows.evaluations.append(row)
    if rng.random() < APPEAL_SHARE:
        _appeal(rng, rows, ids, card, scorecard_id, row, results, people, now)


def _appeal(
    rng: random.Random,
    rows: _Rows,
    ids: _Ids,
    card: Scorecard,
    scorecard_id: int,
    ev: dict[str, Any],
    results: list[ItemResult],
    people: _People,
    now: datetime,
) -> None:
    """The agent disputes their lowest item; decided (upheld or revised) unless recent."""
    lost = [r for r in results if r.score is not None and r.score < card.item(r.code).points]
    if not lost:
        return
    disputed = rng.choice(lost)
    filed = ev["published_at"] + timedelta(hours=rng.uniform(2, 72))
    reviewer = rng.choice([i for i in people.inspectors if i != ev["inspector_id"]])
    appeal = {
        "evaluation_id": ev["id"],
        "number": 1,
        "filed_by": ev["agent_id"],
        "filed_at": filed,
        "reason": "已按流程解答，请复核该项评分",
        "disputed_items": [disputed.code],
        "reviewer_id": reviewer,
        "decision": None,
        "decided_by": None,
        "decided_at": None,
        "note": "",
        "resulting_version": None,
    }
    rows.appeals.append(appeal)
    decided = filed + timedelta(hours=rng.uniform(4, 48))
    if decided > now:
        ev["state"] = "appealed"
        return
    ev["state"], appeal["decided_by"], appeal["decided_at"] = "final", reviewer, decided
    if rng.random() < 0.6:
        appeal["decision"], appeal["note"] = "upheld", "维持原评分"
        return
    full = float(card.item(disputed.code).points)
    revised = [ItemResult(r.code, full) if r.code == disputed.code else r for r in results]
    ids.version += 1
    total, passed = _version(
        rows, card, ids.version, ev["id"], 2, revised, reviewer, decided, scorecard_id, "申诉改判"
    )
    appeal |= {"decision": "revised", "note": "采纳申诉", "resulting_version": 2}
    ev |= {"current_version": 2, "total": total, "passed": passed, "updated_at": decided}


def _next_ids(s: Session) -> tuple[int, _Ids]:
    from sqlalchemy import func

    call = s.scalar(select(func.max(Call.id))) or 0
    ev = s.scalar(select(func.max(EvaluationRow.id))) or 0
    ver = s.scalar(select(func.max(EvaluationVersionRow.id))) or 0
    return call, _Ids(ev, ver)


def _days(today: date) -> list[date]:
    return [today - timedelta(days=d) for d in range(WEEKS * 7, 0, -1)]


def _calls_on(rng: random.Random, day: date) -> int:
    base = 55 if day.weekday() < 5 else 25  # a small centre's demo agents
    return max(5, round(rng.gauss(base, base * 0.15)))


def _build(
    rng: random.Random,
    seed: int,
    people: _People,
    card: Scorecard,
    scorecard_id: int,
    start_ids: tuple[int, _Ids],
    days: list[date],
    zone: ZoneInfo,
) -> _Rows:
    rows, (n, ids) = _Rows(), start_ids
    now = datetime.now(UTC)
    for day in days:
        for _ in range(_calls_on(rng, day)):
            n += 1
            call = call_row(rng, n, seed, rng.choice(people.agents), started_at(rng, day, zone))
            rows.calls.append(call)
            rows.features.append(
                {
                    "call_id": n,
                    "version": GENERATED,
                    "features": features_of(rng, call),
                    "created_at": call["created_at"],
                    "updated_at": call["created_at"],
                }
            )
            flags = flags_of(rng, call)
            rows.flags.extend(flags)
            share = EVALUATED_SHARE * (3 if flags else 1)
            if rng.random() < share and call["started_at"] + timedelta(days=3) < now:
                _evaluate(rng, rows, ids, card, scorecard_id, call, bool(flags), people, now)
    return rows


def _insert(s: Session, rows: _Rows) -> None:
    for model, data in (
        (Call, rows.calls),
        (CallFeatures, rows.features),
        (CallFlag, rows.flags),
        (EvaluationRow, rows.evaluations),
        (EvaluationVersionRow, rows.versions),
        (ItemScoreRow, rows.items),
        (AppealRow, rows.appeals),
    ):
        for i in range(0, len(data), 2000):
            s.execute(insert(model), data[i : i + 2000])


def _has_history(s: Session) -> bool:
    return s.scalar(select(Call.id).where(Call.external_id.like("GEN-%")).limit(1)) is not None


def _reset_sequences(s: Session) -> None:
    """PostgreSQL: the id sequences continue after the ids written here."""
    from sqlalchemy import text

    if s.get_bind().dialect.name != "postgresql":
        return
    for table in ("calls", "evaluations", "evaluation_versions"):
        s.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def _snapshots(platform: Platform, days: list[date]) -> dict[str, int]:
    """Daily, weekly and monthly snapshots over the history (one per period)."""
    from scoring.reports import snapshots as reports

    periods: dict[str, list[date]] = {"daily": days, "weekly": [], "monthly": []}
    for day in days:
        if day.weekday() == 6 or day == days[-1]:
            periods["weekly"].append(day)
        if (day + timedelta(days=1)).day == 1 or day == days[-1]:
            periods["monthly"].append(day)
    for kind, picks in periods.items():
        for day in picks:
            reports.compute_report(platform.uow(), kind, day, actor="demo")
    return {kind: len(picks) for kind, picks in periods.items()}


def _rollups(platform: Platform) -> None:
    """Count the daily roll-ups (日汇总) over every call: the dashboard and the reports read
    them, and from then on each ingest and analysis keeps its own day up to date."""
    from scoring.reports.rollup import rebuild_rollups

    rebuild_rollups(platform.uow(), None, now=platform.clock.now(), actor="demo")


def generate_history(platform: Platform, seed: int, supervisor: str) -> HistoryReport:
    """Write eight weeks of generated history up to yesterday, then the report snapshots.

    ``seed`` makes it reproducible; an existing generated history is kept (``skipped``).
    """
    if not 0 <= seed < 2**31:
        raise HistoryError(f"the history seed {seed} must be within 0..2147483647")
    from scoring import services as scoring

    began = time.monotonic()
    zone = ZoneInfo(platform.settings.centre_timezone)
    days = _days(platform.clock.now().astimezone(zone).date())
    with platform.uow() as uow:
        if _has_history(uow.session):
            return HistoryReport(seed, days[0], days[-1], 0, 0, 0, 0, 0, {}, 0.0, skipped=True)
    scorecard_id = int(scoring.ensure_scorecard(platform.uow())["scorecard_id"])
    card = default_scorecard()
    rng = random.Random(seed)
    with platform.uow() as uow:
        s = uow.session
        rows = _build(
            rng, seed, _people(s, supervisor), card, scorecard_id, _next_ids(s), days, zone
        )
        _insert(s, rows)
        _reset_sequences(s)
        append_audit(
            s,
            actor="demo",
            action="demo.history",
            object_type="demo",
            object_id=seed,
            details={"calls": len(rows.calls), "evaluations": len(rows.evaluations)},
        )
        uow.commit()
    _rollups(platform)
    snaps = _snapshots(platform, days)
    return HistoryReport(
        seed,
        days[0],
        days[-1],
        len(rows.calls),
        len(rows.flags),
        len(rows.evaluations),
        rows.red_lines,
        len(rows.appeals),
        snaps,
        time.monotonic() - began,
    )
