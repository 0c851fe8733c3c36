"""Use cases of sampling, assignment, evaluation, appeals and calibration over the database.

Every function takes a ``UnitOfWork`` (not yet entered), runs one transaction, writes one audit
event per state change with ``storage.audit.append_audit`` and commits. Domain rules live in
``scoring.*``; this module loads rows, calls the domain, and writes the result back.

Concurrency: an evaluation transition ends with ``UPDATE evaluations … WHERE id = :id AND
row_version = :v``; if another transaction changed the row first, no row matches and
``ConcurrentUpdateError`` is raised (the transaction rolls back), so of two supervisors
approving or deciding at once exactly one wins.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from qa_platform.domain.errors import Conflict, NotFound, QaError
from scoring import plan as plan_mod
from scoring.assignment import AssignmentError, CallToAssign, Inspector, assign_calls
from scoring.calendar import WorkingCalendar
from scoring.calibration import CalibrationError, CalibrationScore, analyse_session
from scoring.plan import PlanFilters, SamplingPlan
from scoring.sampling import (
    Frame,
    Sample,
    Stream,
    check_seed,
    frame_from_sorted_unique,
    targeted_sample,
)
from scoring.scorecard import (
    ItemResult,
    Scorecard,
    ScorecardError,
    default_scorecard,
    results_from_mapping,
    scorecard_from_mapping,
    scorecard_to_mapping,
)
from scoring.workflow import (
    SYSTEM,
    Actor,
    ActorRole,
    Appeal,
    Comment,
    Decision,
    Evaluation,
    EvaluationVersion,
    State,
    WorkflowEvent,
    WorkflowPolicy,
)
from storage.audit import append_audit
from storage.models import Call, CallFlag, User
from storage.models_scoring import (
    AppealRow,
    CalibrationScoreRow,
    CalibrationSessionRow,
    EvaluationCommentRow,
    EvaluationRow,
    EvaluationVersionRow,
    ItemScoreRow,
    SampledItemRow,
    SamplingPlanRow,
    SamplingRunRow,
    ScorecardRow,
)
from storage.uow import UnitOfWork

OPEN_STATES = (State.ASSIGNED, State.DRAFT, State.RETURNED)


class NotFoundError(NotFound):
    """No row with that id or name."""


class ConcurrentUpdateError(Conflict):
    """Someone else changed the evaluation first; reload and try again."""


def _now(at: datetime | None) -> datetime:
    return at or datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def centre_timezone(uow: UnitOfWork) -> ZoneInfo:
    """Local time zone of the centre: period dates and working days are counted in it."""
    return ZoneInfo(uow.settings.centre_timezone)


# ======================================================================================
# Users


def actor_for(session: Session, user: int | str) -> Actor:
    """Load a user (id or username) as a workflow actor with the role stored in the database."""
    row = _user(session, user)
    return Actor(row.id, ActorRole(row.role))


def _user(session: Session, user: int | str) -> User:
    if isinstance(user, int) or str(user).isdigit():
        row = session.get(User, int(user))
    else:
        row = session.scalar(select(User).where(User.username == str(user)))
    if row is None or not row.active:
        raise NotFoundError(f"no active user {user!r}")
    return row


def resolve_user_id(uow: UnitOfWork, user: int | str) -> int:
    """User id for an id or username (CLI helper)."""
    with uow:
        return _user(uow.session, user).id


def _audit(
    session: Session,
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: Any,
    details: Mapping[str, Any],
    at: datetime | None = None,
) -> None:
    append_audit(
        session,
        actor=f"user:{actor_id}" if actor_id else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=dict(details),
        at=at,
    )


# ======================================================================================
# Plans


def save_plan(
    uow: UnitOfWork, plan: SamplingPlan | Mapping[str, Any], actor: int | str | None = None
) -> dict[str, Any]:
    """Store a plan as the next version of its name (versions are never overwritten)."""
    if not isinstance(plan, SamplingPlan):
        plan = SamplingPlan.from_mapping({**plan, "version": 1})
    with uow:
        s = uow.session
        actor_id = _user(s, actor).id if actor is not None else None
        latest = s.scalar(
            select(func.max(SamplingPlanRow.version)).where(SamplingPlanRow.name == plan.name)
        )
        plan = replace(plan, version=(latest or 0) + 1).validate()
        row = SamplingPlanRow(
            name=plan.name,
            version=plan.version,
            stream=str(plan.stream),
            definition=plan.to_mapping(),
            created_by=actor_id,
            created_at=_now(None),
        )
        s.add(row)
        s.flush()
        _audit(
            s,
            actor_id,
            "plan.save",
            "sampling_plan",
            row.id,
            {"name": plan.name, "version": plan.version},
        )
        uow.commit()
        return {
            "plan_id": row.id,
            "name": plan.name,
            "version": plan.version,
            "plan": plan.to_mapping(),
        }


def _plan_row(session: Session, name: str, version: int | None = None) -> SamplingPlanRow:
    stmt = select(SamplingPlanRow).where(SamplingPlanRow.name == name)
    stmt = stmt.where(SamplingPlanRow.version == version) if version else stmt
    row = session.scalars(stmt.order_by(SamplingPlanRow.version.desc()).limit(1)).first()
    if row is None:
        raise NotFoundError(
            f"no sampling plan {name!r}" + (f" version {version}" if version else "")
        )
    return row


def get_plan(uow: UnitOfWork, name: str, version: int | None = None) -> dict[str, Any]:
    """A stored plan (latest version unless given)."""
    with uow:
        row = _plan_row(uow.session, name, version)
        return {"plan_id": row.id, "name": row.name, "version": row.version, "plan": row.definition}


def list_plans(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every plan name with its latest version."""
    with uow:
        rows = uow.session.execute(
            select(SamplingPlanRow.name, func.max(SamplingPlanRow.version))
            .group_by(SamplingPlanRow.name)
            .order_by(SamplingPlanRow.name)
        ).all()
        return [{"name": n, "version": v} for n, v in rows]


# ======================================================================================
# Sampling runs


def _period_bounds(
    uow: UnitOfWork, filters: PlanFilters
) -> tuple[datetime | None, datetime | None]:
    tz = centre_timezone(uow)
    start = (
        datetime.combine(filters.period_start, time(0), tzinfo=tz) if filters.period_start else None
    )
    end = (
        datetime.combine(filters.period_end + timedelta(days=1), time(0), tzinfo=tz)
        if filters.period_end
        else None
    )
    return start, end


def _frame_conditions(uow: UnitOfWork, filters: PlanFilters) -> list[Any]:
    start, end = _period_bounds(uow, filters)
    conds: list[Any] = [Call.purged_at.is_(None)]
    optional = [
        (start is not None, lambda: Call.started_at >= start),
        (end is not None, lambda: Call.started_at < end),
        (bool(filters.team_ids), lambda: Call.team_id.in_(filters.team_ids)),
        (bool(filters.agent_ids), lambda: Call.agent_id.in_(filters.agent_ids)),
        (bool(filters.business_types), lambda: Call.business_type.in_(filters.business_types)),
        (bool(filters.directions), lambda: Call.direction.in_(filters.directions)),
        (filters.min_duration_s is not None, lambda: Call.duration_s >= filters.min_duration_s),
        (filters.max_duration_s is not None, lambda: Call.duration_s <= filters.max_duration_s),
        (filters.analysed_only, lambda: Call.status == "analysed"),
    ]
    conds.extend(make() for wanted, make in optional if wanted)
    return conds


_STRATUM_COLUMNS = {
    "agent": Call.agent_id,
    "team": Call.team_id,
    "business_type": Call.business_type,
    "direction": Call.direction,
}


def load_frame(uow: UnitOfWork, plan: SamplingPlan) -> Frame:
    """Freeze the frame in the open unit of work: eligible ids ascending, strata if needed."""
    key = plan.strata_key()
    columns = [Call.id] if key is None else [Call.id, _STRATUM_COLUMNS[key]]
    stmt = select(*columns).where(*_frame_conditions(uow, plan.filters)).order_by(Call.id)
    rows = _fetch_rows(uow.session, stmt)
    if key is None:
        return frame_from_sorted_unique([r[0] for r in rows])
    return frame_from_sorted_unique([r[0] for r in rows], [r[1] for r in rows])


def _fetch_rows(session: Session, stmt: Any) -> list[tuple[Any, ...]]:
    """Run a large read; on PostgreSQL through the DB-API cursor of the session's transaction.

    A million-row frame spends most of its time in per-row result processing; psycopg's own
    cursor returns plain tuples several times faster than the SQLAlchemy result layer.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return [tuple(r) for r in conn.execute(stmt)]
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), compiled.params)
        return cursor.fetchall()
    finally:
        cursor.close()


def _targeted(uow: UnitOfWork, plan: SamplingPlan, seed: int) -> Sample:
    conds = _frame_conditions(uow, plan.filters)
    stmt = (
        select(CallFlag.call_id, CallFlag.type)
        .join(Call, Call.id == CallFlag.call_id)
        .where(*conds, CallFlag.type.in_(plan.flag_types))
    )
    flags: dict[int, set[str]] = defaultdict(set)
    for call_id, flag_type in uow.session.connection().execute(stmt):
        flags[call_id].add(flag_type)
    return targeted_sample(flags, plan.flag_types, seed, plan.per_type_limit)


def run_sampling(
    uow: UnitOfWork,
    plan: SamplingPlan | str,
    seed: int | None = None,
    actor: int | str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Run a plan (object, or the name of a stored plan): freeze the frame, draw, store."""
    seed = check_seed(seed) if seed is not None else secrets.randbits(63)
    with uow:
        s = uow.session
        plan_id = None
        if isinstance(plan, str):
            row = _plan_row(s, plan)
            plan_id, plan = row.id, SamplingPlan.from_mapping(row.definition)
        plan.validate()
        sample = (
            _targeted(uow, plan, seed)
            if plan.stream is Stream.TARGETED
            else plan_mod.draw(plan, load_frame(uow, plan), seed)
        )
        actor_id = _user(s, actor).id if actor is not None else None
        run = _store_run(s, plan, plan_id, sample, actor_id, _now(at))
        uow.commit()
        return run_summary(run, list(sample.call_ids))


def _store_run(
    s: Session,
    plan: SamplingPlan,
    plan_id: int | None,
    sample: Sample,
    actor_id: int | None,
    at: datetime,
) -> SamplingRunRow:
    run = SamplingRunRow(
        plan_id=plan_id,
        plan_name=plan.name,
        plan_version=plan.version if plan_id else None,
        stream=str(sample.stream),
        method=str(sample.method),
        seed=sample.seed,
        frame_hash=sample.frame_hash,
        frame_size=sample.frame_size,
        sample_size=sample.size,
        parameters=plan.to_mapping(),
        allocation=dict(sample.allocation),
        created_by=actor_id,
        created_at=at,
    )
    s.add(run)
    s.flush()
    if sample.call_ids:
        s.execute(
            insert(SampledItemRow),
            [
                {
                    "run_id": run.id,
                    "call_id": c,
                    "stream": str(sample.stream),
                    "stratum": sample.strata.get(c, ""),
                    "draw_order": i,
                }
                for i, c in enumerate(sample.call_ids)
            ],
        )
    _audit(
        s,
        actor_id,
        "sample.run",
        "sampling_run",
        run.id,
        {
            "plan": plan.name,
            "plan_version": run.plan_version,
            "stream": run.stream,
            "method": run.method,
            "seed": str(run.seed),
            "frame_hash": run.frame_hash,
            "frame_size": run.frame_size,
            "sample_size": run.sample_size,
        },
        at,
    )
    return run


def run_summary(run: SamplingRunRow, call_ids: list[int]) -> dict[str, Any]:
    """The JSON contract of ``qa sample run`` / ``qa sample show``."""
    return {
        "run_id": run.id,
        "frame_size": run.frame_size,
        "frame_hash": run.frame_hash,
        "seed": run.seed,
        "method": run.method,
        "stream": run.stream,
        "plan": run.plan_name,
        "plan_version": run.plan_version,
        "sample_size": run.sample_size,
        "allocation": run.allocation,
        "call_ids": call_ids,
    }


def show_run(uow: UnitOfWork, run_id: int) -> dict[str, Any]:
    """A stored run with its calls in draw order."""
    with uow:
        run = uow.session.get(SamplingRunRow, run_id)
        if run is None:
            raise NotFoundError(f"no sampling run {run_id}")
        ids = uow.session.scalars(
            select(SampledItemRow.call_id)
            .where(SampledItemRow.run_id == run_id)
            .order_by(SampledItemRow.draw_order)
        ).all()
        return run_summary(run, list(ids))


def verify_run(uow: UnitOfWork, run_id: int) -> dict[str, Any]:
    """Re-freeze the frame and redraw with the stored seed: is the run reproducible today?"""
    stored = show_run(uow, run_id)
    with uow:
        run = uow.session.get(SamplingRunRow, run_id)
        plan = SamplingPlan.from_mapping(run.parameters)  # type: ignore[union-attr]
        if plan.stream is Stream.TARGETED:
            sample = _targeted(uow, plan, stored["seed"])
        else:
            sample = plan_mod.draw(plan, load_frame(uow, plan), stored["seed"])
    return {
        "run_id": run_id,
        "frame_unchanged": sample.frame_hash == stored["frame_hash"],
        "sample_identical": list(sample.call_ids) == stored["call_ids"],
        "frame_hash_now": sample.frame_hash,
    }


# ======================================================================================
# Scorecards


def ensure_scorecard(uow: UnitOfWork, card: Scorecard | None = None) -> dict[str, Any]:
    """Store a scorecard version (the default one when None); idempotent for equal content."""
    card = card or default_scorecard()
    with uow:
        row = _store_scorecard(uow.session, card)
        uow.commit()
        return {
            "scorecard_id": row.id,
            "name": row.name,
            "version": row.version,
            "fingerprint": row.fingerprint,
        }


def _store_scorecard(s: Session, card: Scorecard) -> ScorecardRow:
    row = s.scalar(
        select(ScorecardRow).where(
            ScorecardRow.name == card.name, ScorecardRow.version == card.version
        )
    )
    if row is not None:
        if row.fingerprint != card.fingerprint:
            raise ScorecardError(
                f"scorecard {card.name} v{card.version} already exists with other "
                "content; give the change a new version number"
            )
        return row
    row = ScorecardRow(
        name=card.name,
        version=card.version,
        fingerprint=card.fingerprint,
        definition=scorecard_to_mapping(card),
        active=True,
        created_at=_now(None),
    )
    s.add(row)
    s.flush()
    _audit(
        s, None, "scorecard.add", "scorecard", row.id, {"name": card.name, "version": card.version}
    )
    return row


def _scorecard_row(s: Session, name: str | None) -> ScorecardRow:
    if name is None:
        return _store_scorecard(s, default_scorecard())
    row = s.scalars(
        select(ScorecardRow)
        .where(ScorecardRow.name == name, ScorecardRow.active)
        .order_by(ScorecardRow.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError(f"no active scorecard {name!r}")
    return row


@lru_cache(maxsize=64)
def _card_from_fingerprint(fingerprint: str, definition_json: str) -> Scorecard:
    import json

    return scorecard_from_mapping(json.loads(definition_json))


def _card(row: ScorecardRow) -> Scorecard:
    import json

    return _card_from_fingerprint(row.fingerprint, json.dumps(row.definition, sort_keys=True))


# ======================================================================================
# Assignment


def _open_load(s: Session) -> dict[int, int]:
    rows = s.execute(
        select(EvaluationRow.inspector_id, func.count())
        .where(EvaluationRow.state.in_([str(x) for x in OPEN_STATES]))
        .group_by(EvaluationRow.inspector_id)
    ).all()
    return {i: n for i, n in rows}


def _inspectors(s: Session, ids: Iterable[int] | None, away: Iterable[int] = ()) -> list[Inspector]:
    stmt = select(User).where(User.role == "inspector", User.active)
    if ids is not None:
        stmt = stmt.where(User.id.in_(list(ids)))
    away_set = set(away)
    return [Inspector(u.id, u.team_id, u.id not in away_set) for u in s.scalars(stmt)]


def assign_run(
    uow: UnitOfWork,
    run_id: int,
    actor: int | str,
    inspector_ids: Iterable[int] | None = None,
    exclude_own_team: bool = True,
    scorecard: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Create an evaluation (state assigned) for every sampled call of a run not yet assigned."""
    at = _now(at)
    with uow:
        s = uow.session
        by = actor_for(s, actor)
        _require_supervisor(by, "assign calls")
        card_row = _scorecard_row(s, scorecard)
        rows = s.execute(
            select(SampledItemRow, Call.agent_id, Call.team_id)
            .join(Call, Call.id == SampledItemRow.call_id)
            .outerjoin(EvaluationRow, EvaluationRow.sampled_item_id == SampledItemRow.id)
            .where(SampledItemRow.run_id == run_id, EvaluationRow.id.is_(None))
        ).all()
        skipped = [item.call_id for item, agent, _ in rows if agent is None]
        todo = {item.call_id: (item, agent) for item, agent, _ in rows if agent is not None}
        calls = [
            CallToAssign(item.call_id, agent, team)
            for item, agent, team in rows
            if agent is not None
        ]
        mapping = assign_calls(
            calls, _inspectors(s, inspector_ids), exclude_own_team, _open_load(s)
        )
        for call_id, inspector_id in mapping.items():
            item, agent = todo[call_id]
            ev = EvaluationRow(
                call_id=call_id,
                sampled_item_id=item.id,
                stream=item.stream,
                agent_id=agent,
                inspector_id=inspector_id,
                scorecard_id=card_row.id,
                state=str(State.ASSIGNED),
                row_version=1,
                current_version=0,
                draft={},
                return_reason="",
                created_at=at,
                updated_at=at,
            )
            s.add(ev)
            s.flush()
            _audit(
                s,
                by.user_id,
                "evaluation.assign",
                "evaluation",
                ev.id,
                {"call_id": call_id, "inspector_id": inspector_id, "run_id": run_id},
                at,
            )
        uow.commit()
        return {
            "run_id": run_id,
            "assigned": {str(k): v for k, v in sorted(mapping.items())},
            "skipped_no_agent": skipped,
        }


def reassign_away(
    uow: UnitOfWork,
    inspector_id: int,
    actor: int | str,
    exclude_own_team: bool = True,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An inspector is away: move their open evaluations to the others, least loaded first."""
    at = _now(at)
    with uow:
        s = uow.session
        by = actor_for(s, actor)
        _require_supervisor(by, "reassign calls")
        rows = s.execute(
            select(EvaluationRow, Call.team_id)
            .join(Call, Call.id == EvaluationRow.call_id)
            .where(
                EvaluationRow.inspector_id == inspector_id,
                EvaluationRow.state.in_([str(x) for x in OPEN_STATES]),
            )
        ).all()
        calls = [CallToAssign(ev.call_id, ev.agent_id, team) for ev, team in rows]
        load = _open_load(s)
        load.pop(inspector_id, None)
        mapping = assign_calls(
            calls, _inspectors(s, None, away=[inspector_id]), exclude_own_team, load
        )
        moved = {}
        for ev_row, _team in rows:
            target = mapping[ev_row.call_id]
            _apply(s, ev_row, lambda ev, b, t, target=target: ev.reassign(target, b, t), by, at)
            moved[str(ev_row.id)] = target
        uow.commit()
        return {"inspector_id": inspector_id, "moved": moved}


def _require_supervisor(actor: Actor, what: str) -> None:
    if actor.role not in (ActorRole.SUPERVISOR, ActorRole.ADMIN):
        raise AssignmentError(
            f"only a supervisor may {what} (user {actor.user_id} is {actor.role})"
        )


# ======================================================================================
# Evaluations: load → domain → conditional write


def _policy(uow: UnitOfWork) -> WorkflowPolicy:
    st = uow.settings
    path = st.holiday_calendar_path
    calendar = WorkingCalendar.load(path) if path else WorkingCalendar()
    return WorkflowPolicy(
        appeal_window_working_days=st.appeal_window_working_days,
        max_appeals=st.appeal_max_per_evaluation,
        blind_review=st.appeal_blind_review,
        calendar=calendar,
        timezone=getattr(st, "centre_timezone", "Asia/Shanghai"),
    )


def _results_to_json(results: Mapping[str, ItemResult]) -> dict[str, Any]:
    return {c: {"score": r.score, "na": r.na, "violated": r.violated} for c, r in results.items()}


def _results_from_json(data: Mapping[str, Any]) -> dict[str, ItemResult]:
    return {
        c: ItemResult(c, v.get("score"), bool(v.get("na")), bool(v.get("violated")))
        for c, v in data.items()
    }


def _comments_from_json(data: Iterable[Mapping[str, Any]]) -> list[Comment]:
    return [
        Comment(float(c["at_s"]), c["text"], int(c["author_id"]), c.get("item_code")) for c in data
    ]


def _load(s: Session, row: EvaluationRow, policy: WorkflowPolicy) -> Evaluation:
    card = _card(s.get(ScorecardRow, row.scorecard_id))  # type: ignore[arg-type]
    duration = s.scalar(select(Call.duration_s).where(Call.id == row.call_id))
    ev = Evaluation(
        row.id,
        row.call_id,
        row.agent_id,
        row.inspector_id,
        card,
        policy,
        State(row.state),
        versions=_load_versions(s, row.id, card),
        appeals=_load_appeals(s, row.id),
        draft_results=_results_from_json(row.draft.get("results", {})),
        draft_comments=_comments_from_json(row.draft.get("comments", [])),
        published_at=_aware(row.published_at),
        appeal_deadline=_aware(row.appeal_deadline),
        call_duration_s=duration,
        return_reason=row.return_reason,
    )
    return ev


def _load_versions(s: Session, evaluation_id: int, card: Scorecard) -> list[EvaluationVersion]:
    versions = []
    rows = s.scalars(
        select(EvaluationVersionRow)
        .where(EvaluationVersionRow.evaluation_id == evaluation_id)
        .order_by(EvaluationVersionRow.number)
    ).all()
    for v in rows:
        items = s.scalars(select(ItemScoreRow).where(ItemScoreRow.version_id == v.id)).all()
        results = {i.item_code: ItemResult(i.item_code, i.score, i.na, i.violated) for i in items}
        comments = tuple(
            Comment(c.at_s, c.text, c.author_id, c.item_code)
            for c in s.scalars(
                select(EvaluationCommentRow)
                .where(EvaluationCommentRow.version_id == v.id)
                .order_by(EvaluationCommentRow.id)
            )
        )
        versions.append(
            EvaluationVersion(
                v.number,
                results,
                comments,
                v.author_id,
                _aware(v.created_at),
                card.score(results.values()),
                v.reason,
            )
        )
    return versions


def _load_appeals(s: Session, evaluation_id: int) -> list[Appeal]:
    rows = s.scalars(
        select(AppealRow).where(AppealRow.evaluation_id == evaluation_id).order_by(AppealRow.number)
    ).all()
    return [
        Appeal(
            a.number,
            a.filed_by,
            _aware(a.filed_at),
            a.reason,
            tuple(a.disputed_items),
            a.reviewer_id,
            Decision(a.decision) if a.decision else None,
            a.decided_by,
            _aware(a.decided_at),
            a.note,
            a.resulting_version,
        )
        for a in rows
    ]


def _apply(
    s: Session,
    row: EvaluationRow,
    action,
    by: Actor,
    at: datetime,
    policy: WorkflowPolicy | None = None,
) -> WorkflowEvent:
    """Run one domain transition and write it back under the row_version guard."""
    ev = _load(s, row, policy or WorkflowPolicy())
    known_versions, known_appeals = len(ev.versions), list(ev.appeals)
    event = action(ev, by, at)
    _write(s, row, ev, at)
    _write_versions(s, row, ev.versions[known_versions:])
    _write_appeals(s, row.id, known_appeals, ev.appeals)
    details = {k: v for k, v in event.details.items()} | {
        "from": str(event.from_state),
        "to": str(event.to_state),
        "version": event.version,
    }
    _audit(s, by.user_id, f"evaluation.{event.action}", "evaluation", row.id, details, at)
    return event


def _write(s: Session, row: EvaluationRow, ev: Evaluation, at: datetime) -> None:
    current = ev.current_version
    values = {
        "state": str(ev.state),
        "inspector_id": ev.inspector_id,
        "return_reason": ev.return_reason,
        "draft": {
            "results": _results_to_json(ev.draft_results),
            "comments": [_comment_json(c) for c in ev.draft_comments],
        },
        "published_at": ev.published_at,
        "appeal_deadline": ev.appeal_deadline,
        "current_version": current.number if current else 0,
        "total": current.score.total if current and current.score else None,
        "passed": current.score.passed if current and current.score else None,
        "row_version": row.row_version + 1,
        "updated_at": at,
    }
    result = s.execute(
        update(EvaluationRow)
        .where(EvaluationRow.id == row.id, EvaluationRow.row_version == row.row_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ConcurrentUpdateError(
            f"evaluation {row.id} was changed by someone else meanwhile (expected row_version "
            f"{row.row_version}); reload it and try again"
        )


def _comment_json(c: Comment) -> dict[str, Any]:
    return {"at_s": c.at_s, "text": c.text, "author_id": c.author_id, "item_code": c.item_code}


def _write_versions(s: Session, row: EvaluationRow, new: Iterable[EvaluationVersion]) -> None:
    card = _card(s.get(ScorecardRow, row.scorecard_id))  # type: ignore[arg-type]
    for v in new:
        assert v.score is not None
        vrow = EvaluationVersionRow(
            evaluation_id=row.id,
            number=v.number,
            scorecard_id=row.scorecard_id,
            total=v.score.total,
            passed=v.score.passed,
            red_line_violations=list(v.score.red_line_violations),
            category_errors=dict(v.score.category_errors),
            author_id=v.author_id,
            reason=v.reason,
            created_at=v.created_at,
        )
        s.add(vrow)
        s.flush()
        s.add_all(
            ItemScoreRow(
                version_id=vrow.id,
                item_code=r.code,
                category=str(card.item(r.code).category),
                score=r.score,
                max_points=card.item(r.code).points,
                na=r.na,
                violated=r.violated,
            )
            for r in v.results.values()
        )
        s.add_all(
            EvaluationCommentRow(
                version_id=vrow.id,
                at_s=c.at_s,
                item_code=c.item_code,
                text=c.text,
                author_id=c.author_id,
            )
            for c in v.comments
        )


def _write_appeals(
    s: Session, evaluation_id: int, before: list[Appeal], after: list[Appeal]
) -> None:
    for appeal in after:
        if appeal in before:
            continue
        fields = {
            "filed_by": appeal.filed_by,
            "filed_at": appeal.filed_at,
            "reason": appeal.reason,
            "disputed_items": list(appeal.disputed_items),
            "reviewer_id": appeal.reviewer_id,
            "decision": str(appeal.decision) if appeal.decision else None,
            "decided_by": appeal.decided_by,
            "decided_at": appeal.decided_at,
            "note": appeal.note,
            "resulting_version": appeal.resulting_version,
        }
        existing = s.scalar(
            select(AppealRow).where(
                AppealRow.evaluation_id == evaluation_id, AppealRow.number == appeal.number
            )
        )
        if existing is None:
            s.add(AppealRow(evaluation_id=evaluation_id, number=appeal.number, **fields))
        else:
            for key, value in fields.items():
                setattr(existing, key, value)
    s.flush()


def _transition(
    uow: UnitOfWork,
    evaluation_id: int,
    actor: int | str | Actor,
    action,
    at: datetime | None = None,
) -> dict[str, Any]:
    at = _now(at)
    with uow:
        s = uow.session
        row = s.get(EvaluationRow, evaluation_id)
        if row is None:
            raise NotFoundError(f"no evaluation {evaluation_id}")
        by = actor if isinstance(actor, Actor) else actor_for(s, actor)
        event = _apply(s, row, action, by, at, _policy(uow))
        uow.commit()
        return {
            "evaluation_id": evaluation_id,
            "action": event.action,
            "from": str(event.from_state),
            "state": str(event.to_state),
            "version": event.version,
            "at": at.isoformat(),
            "details": {k: v for k, v in event.details.items()},
        }


def start_evaluation(
    uow: UnitOfWork, evaluation_id: int, actor: int | str, at: datetime | None = None
):
    """Inspector opens an assigned evaluation (assigned → draft)."""
    return _transition(uow, evaluation_id, actor, lambda ev, by, t: ev.start(by, t), at)


def save_scores(
    uow: UnitOfWork,
    evaluation_id: int,
    actor: int | str,
    scores: Mapping[str, Any],
    at: datetime | None = None,
):
    """Save draft item scores ``{code: points | "na" | true/false for red lines}``."""
    results = results_from_mapping(scores)
    return _transition(
        uow, evaluation_id, actor, lambda ev, by, t: ev.record_scores(results, by, t), at
    )


def add_comment(
    uow: UnitOfWork,
    evaluation_id: int,
    actor: int | str,
    at_s: float,
    text: str,
    item_code: str | None = None,
    at: datetime | None = None,
):
    """Pin a comment to second ``at_s`` of the call."""
    return _transition(
        uow,
        evaluation_id,
        actor,
        lambda ev, by, t: ev.add_comment(Comment(float(at_s), text, by.user_id, item_code), by, t),
        at,
    )


def submit_evaluation(
    uow: UnitOfWork, evaluation_id: int, actor: int | str, at: datetime | None = None
):
    """Submit for review (draft → submitted)."""
    return _transition(uow, evaluation_id, actor, lambda ev, by, t: ev.submit(by, t), at)


def return_evaluation(
    uow: UnitOfWork, evaluation_id: int, actor: int | str, reason: str, at: datetime | None = None
):
    """Review returns the evaluation to the inspector (退回)."""
    return _transition(
        uow, evaluation_id, actor, lambda ev, by, t: ev.return_for_rework(reason, by, t), at
    )


def reopen_evaluation(
    uow: UnitOfWork, evaluation_id: int, actor: int | str, at: datetime | None = None
):
    """Inspector reworks a returned evaluation (returned → draft)."""
    return _transition(uow, evaluation_id, actor, lambda ev, by, t: ev.reopen(by, t), at)


def approve_evaluation(
    uow: UnitOfWork, evaluation_id: int, actor: int | str, at: datetime | None = None
):
    """Review approves (复核通过): version 1 is written."""
    return _transition(uow, evaluation_id, actor, lambda ev, by, t: ev.approve(by, t), at)


def publish_evaluation(
    uow: UnitOfWork, evaluation_id: int, actor: int | str, at: datetime | None = None
):
    """Publish to the agent; the appeal window opens."""
    return _transition(uow, evaluation_id, actor, lambda ev, by, t: ev.publish(by, t), at)


def file_appeal(
    uow: UnitOfWork,
    evaluation_id: int,
    actor: int | str,
    reason: str,
    disputed_items: Iterable[str],
    at: datetime | None = None,
):
    """The evaluated agent appeals (申诉)."""
    items = list(disputed_items)
    return _transition(
        uow, evaluation_id, actor, lambda ev, by, t: ev.file_appeal(reason, items, by, t), at
    )


def assign_appeal_reviewer(
    uow: UnitOfWork,
    evaluation_id: int,
    actor: int | str,
    reviewer: int | str,
    at: datetime | None = None,
):
    """A supervisor names the reviewer (复议人) of the open appeal."""
    reviewer_id = resolve_user_id(uow, reviewer)
    return _transition(
        uow, evaluation_id, actor, lambda ev, by, t: ev.assign_reviewer(reviewer_id, by, t), at
    )


def decide_appeal(
    uow: UnitOfWork,
    evaluation_id: int,
    actor: int | str,
    decision: str,
    note: str = "",
    revised_scores: Mapping[str, Any] | None = None,
    at: datetime | None = None,
):
    """Decide the open appeal: ``upheld`` or ``revised`` (with the changed item scores)."""
    try:
        verdict = Decision(decision)
    except ValueError:
        raise QaError(f"decision {decision!r} must be 'upheld' or 'revised'") from None
    results = results_from_mapping(revised_scores) if revised_scores is not None else None
    return _transition(
        uow,
        evaluation_id,
        actor,
        lambda ev, by, t: ev.decide_appeal(verdict, by, t, note, results),
        at,
    )


def close_appeal_windows(uow: UnitOfWork, at: datetime | None = None) -> dict[str, Any]:
    """Make every published evaluation whose window has passed final (run periodically)."""
    at = _now(at)
    with uow:
        ids = uow.session.scalars(
            select(EvaluationRow.id)
            .where(EvaluationRow.state == str(State.PUBLISHED), EvaluationRow.appeal_deadline <= at)
            .order_by(EvaluationRow.id)
        ).all()
    closed, skipped = [], []
    for evaluation_id in ids:
        try:
            _transition(uow, evaluation_id, SYSTEM, lambda ev, by, t: ev.close_window(t, by), at)
            closed.append(evaluation_id)
        except (ConcurrentUpdateError, QaError):
            skipped.append(evaluation_id)
    return {"closed": closed, "skipped": skipped}


def show_evaluation(
    uow: UnitOfWork, evaluation_id: int, viewer: int | str | None = None
) -> dict[str, Any]:
    """An evaluation with its versions and appeals; the inspector is hidden from a blind reviewer."""
    with uow:
        s = uow.session
        row = s.get(EvaluationRow, evaluation_id)
        if row is None:
            raise NotFoundError(f"no evaluation {evaluation_id}")
        policy = _policy(uow)
        ev = _load(s, row, policy)
        card_row = s.get(ScorecardRow, row.scorecard_id)
        inspector: int | None = row.inspector_id
        if viewer is not None:
            v = actor_for(s, viewer)
            reviewing = any(a.reviewer_id == v.user_id for a in ev.appeals)
            if policy.blind_review and reviewing and v.user_id != row.inspector_id:
                inspector = None
        return {
            "evaluation_id": row.id,
            "call_id": row.call_id,
            "agent_id": row.agent_id,
            "inspector_id": inspector,
            "state": row.state,
            "row_version": row.row_version,
            "stream": row.stream,
            "scorecard": {"name": card_row.name, "version": card_row.version},
            "published_at": _iso(_aware(row.published_at)),
            "appeal_deadline": _iso(_aware(row.appeal_deadline)),
            "total": row.total,
            "passed": row.passed,
            "current_version": row.current_version,
            "draft": row.draft
            if row.state in {str(x) for x in OPEN_STATES} | {"submitted"}
            else None,
            "versions": [_version_json(v) for v in ev.versions],
            "appeals": [_appeal_json(a) for a in ev.appeals],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _version_json(v: EvaluationVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "total": v.score.total if v.score else None,
        "passed": v.score.passed if v.score else None,
        "red_line_violations": list(v.score.red_line_violations) if v.score else [],
        "author_id": v.author_id,
        "created_at": _iso(v.created_at),
        "reason": v.reason,
        "results": _results_to_json(v.results),
        "comments": [_comment_json(c) for c in v.comments],
    }


def _appeal_json(a: Appeal) -> dict[str, Any]:
    return {
        "number": a.number,
        "filed_by": a.filed_by,
        "filed_at": _iso(a.filed_at),
        "reason": a.reason,
        "disputed_items": list(a.disputed_items),
        "reviewer_id": a.reviewer_id,
        "decision": str(a.decision) if a.decision else None,
        "decided_by": a.decided_by,
        "decided_at": _iso(a.decided_at),
        "note": a.note,
        "resulting_version": a.resulting_version,
    }


def list_evaluations(
    uow: UnitOfWork, inspector: int | str | None = None, state: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Work queue: evaluations by inspector and/or state."""
    with uow:
        stmt = select(EvaluationRow).order_by(EvaluationRow.id).limit(limit)
        if inspector is not None:
            stmt = stmt.where(EvaluationRow.inspector_id == _user(uow.session, inspector).id)
        if state:
            stmt = stmt.where(EvaluationRow.state == state)
        return [
            {
                "evaluation_id": r.id,
                "call_id": r.call_id,
                "agent_id": r.agent_id,
                "inspector_id": r.inspector_id,
                "state": r.state,
                "total": r.total,
            }
            for r in uow.session.scalars(stmt)
        ]


# ======================================================================================
# Calibration


def create_calibration(
    uow: UnitOfWork,
    name: str,
    call_ids: Iterable[int],
    inspector_ids: Iterable[int],
    actor: int | str,
    reference_by: int | None = None,
    scorecard: str | None = None,
) -> dict[str, Any]:
    """Open a calibration session (校准) over the same calls for several inspectors."""
    calls, inspectors = sorted(set(call_ids)), sorted(set(inspector_ids))
    if len(inspectors) < 2 or not calls:
        raise CalibrationError("a calibration session needs at least 2 inspectors and 1 call")
    with uow:
        s = uow.session
        by = actor_for(s, actor)
        _require_supervisor(by, "run a calibration session")
        missing = set(calls) - set(s.scalars(select(Call.id).where(Call.id.in_(calls))))
        if missing:
            raise NotFoundError(f"calls {sorted(missing)} do not exist")
        card = _scorecard_row(s, scorecard)
        row = CalibrationSessionRow(
            name=name,
            scorecard_id=card.id,
            call_ids=calls,
            inspector_ids=inspectors,
            reference_by=reference_by,
            status="open",
            created_by=by.user_id,
            created_at=_now(None),
        )
        s.add(row)
        s.flush()
        _audit(
            s,
            by.user_id,
            "calibration.create",
            "calibration",
            row.id,
            {"calls": calls, "inspectors": inspectors, "reference_by": reference_by},
        )
        uow.commit()
        return {"session_id": row.id, "name": name, "call_ids": calls, "inspector_ids": inspectors}


def record_calibration_scores(
    uow: UnitOfWork, session_id: int, actor: int | str, call_id: int, scores: Mapping[str, Any]
) -> dict[str, Any]:
    """A participant (or the reference supervisor) scores one call; re-scoring replaces."""
    with uow:
        s = uow.session
        row = _calibration(s, session_id)
        by = actor_for(s, actor)
        is_ref = row.reference_by == by.user_id
        if by.user_id not in row.inspector_ids and not is_ref:
            raise CalibrationError(
                f"user {by.user_id} is not a participant of calibration {session_id}"
            )
        if call_id not in row.call_ids:
            raise CalibrationError(f"call {call_id} is not part of calibration {session_id}")
        card = _card(s.get(ScorecardRow, row.scorecard_id))  # type: ignore[arg-type]
        results = card.check_results(results_from_mapping(scores))
        old = s.scalars(
            select(CalibrationScoreRow).where(
                CalibrationScoreRow.session_id == session_id,
                CalibrationScoreRow.inspector_id == by.user_id,
                CalibrationScoreRow.call_id == call_id,
            )
        ).all()
        for o in old:
            s.delete(o)
        s.flush()
        now = _now(None)
        s.add_all(
            CalibrationScoreRow(
                session_id=session_id,
                inspector_id=by.user_id,
                call_id=call_id,
                item_code=code,
                value=_calibration_value(r),
                is_reference=is_ref,
                created_at=now,
            )
            for code, r in results.items()
        )
        _audit(
            s,
            by.user_id,
            "calibration.score",
            "calibration",
            session_id,
            {"call_id": call_id, "items": sorted(results), "reference": is_ref},
        )
        uow.commit()
        return {
            "session_id": session_id,
            "call_id": call_id,
            "items": len(results),
            "reference": is_ref,
        }


def _calibration_value(result: ItemResult) -> float | None:
    if result.na:
        return None
    return float(result.violated) if result.score is None else float(result.score)


def _calibration(s: Session, session_id: int) -> CalibrationSessionRow:
    row = s.get(CalibrationSessionRow, session_id)
    if row is None:
        raise NotFoundError(f"no calibration session {session_id}")
    return row


def calibration_report(uow: UnitOfWork, session_id: int) -> dict[str, Any]:
    """Agreement per item (Fleiss, ICC(2,1), mean pairwise Cohen) and deviation per inspector."""
    with uow:
        s = uow.session
        row = _calibration(s, session_id)
        scores = s.scalars(
            select(CalibrationScoreRow).where(CalibrationScoreRow.session_id == session_id)
        ).all()
        participants = [
            CalibrationScore(x.inspector_id, x.call_id, x.item_code, x.value)
            for x in scores
            if not x.is_reference
        ]
        reference = {
            (x.call_id, x.item_code): x.value
            for x in scores
            if x.is_reference and x.value is not None
        }
        report = analyse_session(participants, reference or None)
        data = {
            "session_id": session_id,
            "reference_source": report.reference_source,
            "items": [i.__dict__ for i in report.items],
            "inspectors": [d.__dict__ for d in report.inspectors],
        }
        row.report = data
        _audit(
            s, None, "calibration.report", "calibration", session_id, {"items": len(report.items)}
        )
        uow.commit()
        return data


# ======================================================================================
# `qa call show` section


def call_scoring_detail(session: Session, call: Call) -> dict[str, Any]:
    """Extra keys for ``qa call show``: the runs that drew the call and its evaluations."""
    runs = session.execute(
        select(SampledItemRow.run_id, SampledItemRow.stream)
        .where(SampledItemRow.call_id == call.id)
        .order_by(SampledItemRow.run_id)
    ).all()
    evals = session.scalars(
        select(EvaluationRow).where(EvaluationRow.call_id == call.id).order_by(EvaluationRow.id)
    ).all()
    return {
        "sampled_in": [{"run_id": r, "stream": s} for r, s in runs],
        "evaluations": [
            {
                "evaluation_id": e.id,
                "state": e.state,
                "total": e.total,
                "version": e.current_version,
            }
            for e in evals
        ],
    }
