"""Flag use cases (异常监控): compute and store a call's flags, re-run them, manage rule sets.

Rules are pure (:func:`qa_platform.flags.evaluate`); this module reads the stored transcript
and features, replaces the call's rows in ``call_flags`` in one transaction, and keeps the
editable rule sets in the ``rule_sets`` table. The pipeline's ``flags`` stage calls
:func:`compute_flags`; ``qa flags rerun`` calls :func:`rerun` (no re-transcription).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from qa_platform.clock import utc_now
from qa_platform.domain.calls import CallNotFound, CallStatus
from qa_platform.domain.errors import Invalid, NotFound
from qa_platform.domain.transcript import AudioFeatures, Flag, Segment, Transcript
from qa_platform.flags import (
    OutboundContext,
    RuleSet,
    RuleSetError,
    default_rule_set,
    evaluate,
    parse_rule_set,
)
from qa_platform.services.context import Platform
from qa_platform.services.emotion import emotion_by_transcript
from qa_platform.services.outbound import outbound_context
from storage.audit import append_audit
from storage.models import Call, CallFlag
from storage.models_flags import RuleSetRow
from storage.models_pipeline import CallFeatures, TranscriptSegment
from storage.models_pipeline import Transcript as TranscriptRow
from storage.rollups import refresh_calls

RERUN_BATCH = 500


class RuleSetInvalid(Invalid):
    """A rule set file or stored rule set failed validation (the message names the key)."""


class RuleSetNotFound(NotFound):
    """No rule set with that version."""


# ----------------------------------------------------------------------------- rule sets


def active_rule_set(session: Session) -> RuleSet:
    """The active stored rule set, or the packaged default when none is active."""
    row = session.scalars(select(RuleSetRow).where(RuleSetRow.active)).first()
    return _parse_row(row) if row else default_rule_set()


def rule_set_by_version(session: Session, version: str) -> RuleSet:
    """A stored rule set by version (the packaged default answers to its own version)."""
    row = session.scalars(select(RuleSetRow).where(RuleSetRow.version == version)).first()
    if row is not None:
        return _parse_row(row)
    if version == default_rule_set().version:
        return default_rule_set()
    raise RuleSetNotFound(f"no rule set with version {version!r} (see `qa flags rules list`)")


def _parse_row(row: RuleSetRow) -> RuleSet:
    try:
        return parse_rule_set(row.content, source=f"rule set {row.version!r} (database)")
    except RuleSetError as exc:
        raise RuleSetInvalid(str(exc)) from None


def import_rule_set(
    platform: Platform, path: Path, *, created_by: str = "cli", activate: bool = True
) -> dict[str, Any]:
    """Validate a YAML file and store it as a new version (optionally the active one)."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleSetInvalid(f"{path}: cannot read rule set: {exc.strerror or exc}") from None
    return import_rule_set_text(
        platform, content, str(path), created_by=created_by, activate=activate
    )


def import_rule_set_text(
    platform: Platform, content: str, source: str, *, created_by: str, activate: bool = True
) -> dict[str, Any]:
    """Validate YAML text (``source`` names it in errors) and store it as a new version."""
    try:
        rules = parse_rule_set(content, source=source)
    except RuleSetError as exc:
        raise RuleSetInvalid(str(exc)) from None
    with platform.uow() as uow:
        row = _store_rule_set(uow.session, rules, content, created_by)
        if activate:
            _activate(uow.session, row)
        append_audit(
            uow.session,
            actor=created_by,
            action="rule_set.import",
            object_type="rule_set",
            object_id=row.version,
            details={"hash": rules.content_hash, "active": row.active},
        )
        uow.commit()
        return _row_summary(row)


def _store_rule_set(session: Session, rules: RuleSet, content: str, created_by: str) -> RuleSetRow:
    existing = session.scalars(
        select(RuleSetRow).where(RuleSetRow.version == rules.version)
    ).first()
    if existing is not None:
        if existing.content_hash != rules.content_hash:
            raise RuleSetInvalid(
                f"rule set version {rules.version!r} already exists with different content; "
                "give the edited rule set a new version"
            )
        return existing
    if (
        rules.version == default_rule_set().version
        and rules.content_hash != default_rule_set().content_hash
    ):
        raise RuleSetInvalid(
            f"version {rules.version!r} is the packaged default's; use a new version"
        )
    row = RuleSetRow(
        version=rules.version,
        description=rules.description,
        content=content,
        content_hash=rules.content_hash,
        created_by=created_by,
        created_at=utc_now(),
        active=False,
    )
    session.add(row)
    session.flush()
    return row


def _activate(session: Session, row: RuleSetRow) -> None:
    session.execute(
        update(RuleSetRow).where(RuleSetRow.active, RuleSetRow.id != row.id).values(active=False)
    )
    session.flush()
    row.active = True
    session.flush()


def activate_rule_set(platform: Platform, version: str, *, actor: str = "cli") -> dict[str, Any]:
    """Make a stored rule set the active one."""
    with platform.uow() as uow:
        row = uow.session.scalars(select(RuleSetRow).where(RuleSetRow.version == version)).first()
        if row is None:
            raise RuleSetNotFound(f"no stored rule set with version {version!r}")
        _activate(uow.session, row)
        append_audit(
            uow.session,
            actor=actor,
            action="rule_set.activate",
            object_type="rule_set",
            object_id=version,
        )
        uow.commit()
        return _row_summary(row)


def list_rule_sets(platform: Platform) -> list[dict[str, Any]]:
    """The packaged default and every stored rule set, oldest first."""
    default = default_rule_set()
    with platform.uow() as uow:
        rows = list(
            uow.session.scalars(select(RuleSetRow).order_by(RuleSetRow.created_at, RuleSetRow.id))
        )
        any_active = any(r.active for r in rows)
        packaged = {
            "version": default.version,
            "description": default.description,
            "content_hash": default.content_hash,
            "created_by": "package",
            "created_at": None,
            "active": not any_active,
            "source": "package",
        }
        return [packaged] + [_row_summary(r) for r in rows]


def show_rule_set(platform: Platform, version: str) -> dict[str, Any]:
    """One rule set: summary plus its content as data and as YAML."""
    with platform.uow() as uow:
        rules = rule_set_by_version(uow.session, version)
        summary = next((r for r in list_rule_sets(platform) if r["version"] == version), {})
    return summary | {"rules": rules.to_dict(), "yaml": rules.to_yaml()}


def _row_summary(row: RuleSetRow) -> dict[str, Any]:
    return {
        "version": row.version,
        "description": row.description,
        "content_hash": row.content_hash,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "active": row.active,
        "source": "database",
    }


# ----------------------------------------------------------------------------- computing flags


def flags_for(
    transcript: Transcript | None,
    features: AudioFeatures,
    call: Call,
    rule_set: RuleSet,
    outbound: OutboundContext | None = None,
) -> list[Flag]:
    """The narrow, storage-free entry: flags of one call from its transcript and features
    (and, for an outbound call, its context: start time, calendar, earlier refusals)."""
    return evaluate(
        transcript,
        features,
        rule_set,
        direction=_direction(call.direction),
        business_type=call.business_type or None,
        outbound=outbound,
        audio=call.has_audio,
    )


def _direction(value: str | None) -> str:
    return value if value in ("in", "out") else "in"


def compute_flags(platform: Platform, call_id: int, rule_set: RuleSet | None = None) -> list[Flag]:
    """Evaluate the rules on the call's stored transcript and features and replace its flags."""
    with platform.uow() as uow:
        call = uow.session.get(Call, call_id)
        if call is None:
            raise CallNotFound(f"no call {call_id}")
        rules = rule_set or active_rule_set(uow.session)
        loaded = _load_batch(uow.session, [call])
        context = outbound_context(uow.session, call, platform.settings)
        flags = flags_for(*loaded[call.id], call, rules, context)
        replace_flags(uow.session, {call.id: flags})
        uow.commit()
        return flags


def replace_flags(session: Session, flags_by_call: Mapping[int, Sequence[Flag]]) -> int:
    """Delete the calls' flag rows and insert the new ones (in the caller's transaction)."""
    if not flags_by_call:
        return 0
    session.execute(delete(CallFlag).where(CallFlag.call_id.in_(list(flags_by_call))))
    now = utc_now()
    rows = [
        {
            "call_id": call_id,
            "type": f.type,
            "severity": str(f.severity),
            "role": str(f.role),
            "start": f.start,
            "end": f.end,
            "evidence": f.evidence,
            "rule_set_version": f.rule_set_version,
            "created_at": now,
            "evidence_key": f.evidence_key,
            "evidence_params": dict(f.evidence_params),
        }
        for call_id, flags in flags_by_call.items()
        for f in flags
    ]
    if rows:
        session.execute(insert(CallFlag), rows)
    refresh_calls(session, flags_by_call)  # daily report roll-ups, same transaction
    return len(rows)


def _load_batch(
    session: Session, calls: Sequence[Call]
) -> dict[int, tuple[Transcript | None, AudioFeatures]]:
    """Latest transcript and features of each call, in three queries for the whole batch."""
    ids = [c.id for c in calls]
    transcripts = _latest(
        session.scalars(select(TranscriptRow).where(TranscriptRow.call_id.in_(ids)))
    )
    features = _latest(session.scalars(select(CallFeatures).where(CallFeatures.call_id.in_(ids))))
    segments = _segments_by_transcript(session, [t.id for t in transcripts.values()])
    emotion = emotion_by_transcript(session, [t.id for t in transcripts.values()])
    out: dict[int, tuple[Transcript | None, AudioFeatures]] = {}
    for call in calls:
        row = transcripts.get(call.id)
        transcript = (
            Transcript(segments.get(row.id, []), row.language, row.model, emotion.get(row.id, []))
            if row
            else None
        )
        f = features.get(call.id)
        out[call.id] = (
            transcript,
            AudioFeatures.from_dict(f.features) if f else AudioFeatures(call.duration_s),
        )
    return out


def load_analyses(
    session: Session, calls: Sequence[Call]
) -> dict[int, tuple[Transcript | None, AudioFeatures]]:
    """Latest transcript and features of each call (what the rules read; auto-QA reads it too)."""
    return _load_batch(session, calls)


def _latest(rows: Iterable[Any]) -> dict[int, Any]:
    latest: dict[int, Any] = {}
    for row in rows:
        best = latest.get(row.call_id)
        if best is None or (row.updated_at, row.id) > (best.updated_at, best.id):
            latest[row.call_id] = row
    return latest


def _segments_by_transcript(
    session: Session, transcript_ids: list[int]
) -> dict[int, list[Segment]]:
    out: dict[int, list[Segment]] = {}
    if not transcript_ids:
        return out
    rows = session.execute(
        select(
            TranscriptSegment.transcript_id,
            TranscriptSegment.speaker,
            TranscriptSegment.role,
            TranscriptSegment.start,
            TranscriptSegment.end,
            TranscriptSegment.text,
            TranscriptSegment.words,
            TranscriptSegment.confidence,
            TranscriptSegment.unreliable,
        )
        .where(TranscriptSegment.transcript_id.in_(transcript_ids))
        .order_by(TranscriptSegment.transcript_id, TranscriptSegment.idx)
    )
    for tid, speaker, role, start, end, text, words, confidence, unreliable in rows:
        seg = Segment.from_dict(
            {
                "speaker": speaker,
                "role": role,
                "start": start,
                "end": end,
                "text": text,
                "words": words or [],
                "confidence": confidence,
                "unreliable": unreliable,
            }
        )
        out.setdefault(tid, []).append(seg)
    return out


# ----------------------------------------------------------------------------- rerun and queries


@dataclass(frozen=True, slots=True)
class RerunResult:
    """What ``qa flags rerun`` did."""

    rule_set_version: str
    calls: int
    flags: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_set_version": self.rule_set_version,
            "calls": self.calls,
            "flags": self.flags,
            "seconds": round(self.seconds, 3),
        }


def rerun(
    platform: Platform,
    since: datetime | None = None,
    rules_version: str | None = None,
    *,
    actor: str = "cli",
    batch_size: int = RERUN_BATCH,
) -> RerunResult:
    """Recompute the flags of every analysed call (started at or after ``since``).

    Uses the stored transcripts and features only; each batch of calls is one transaction, so an
    interruption leaves every call either with its old flags or its new ones, never half.
    """
    began = time.perf_counter()
    with platform.uow() as uow:
        rules = (
            rule_set_by_version(uow.session, rules_version)
            if rules_version
            else active_rule_set(uow.session)
        )
        ids = list(uow.session.scalars(_eligible(since)))
    calls = flags = 0
    for start in range(0, len(ids), batch_size):
        batch_ids = ids[start : start + batch_size]
        with platform.uow() as uow:
            batch = list(
                uow.session.scalars(select(Call).where(Call.id.in_(batch_ids)).order_by(Call.id))
            )
            loaded = _load_batch(uow.session, batch)
            results = {
                c.id: flags_for(
                    *loaded[c.id], c, rules, outbound_context(uow.session, c, platform.settings)
                )
                for c in batch
            }
            flags += replace_flags(uow.session, results)
            calls += len(batch)
            uow.commit()
    with platform.uow() as uow:
        append_audit(
            uow.session,
            actor=actor,
            action="flags.rerun",
            object_type="rule_set",
            object_id=rules.version,
            details={"calls": calls, "flags": flags, "since": since.isoformat() if since else None},
        )
        uow.commit()
    return RerunResult(rules.version, calls, flags, time.perf_counter() - began)


def _eligible(since: datetime | None) -> Any:
    query = select(Call.id).where(Call.status == CallStatus.ANALYSED).order_by(Call.id)
    return query.where(Call.started_at >= since) if since else query


def list_flagged(
    platform: Platform,
    *,
    flag_type: str | None = None,
    since: datetime | None = None,
    severity: str | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Calls with flags (of a type, severity, since a date), newest first, with those flags."""
    from qa_platform.flags import FLAG_TYPES

    if flag_type is not None and flag_type not in FLAG_TYPES:
        raise FlagTypeUnknown(f"unknown flag type {flag_type!r}; types: {', '.join(FLAG_TYPES)}")
    query = select(CallFlag, Call).join(Call, Call.id == CallFlag.call_id)
    if flag_type:
        query = query.where(CallFlag.type == flag_type)
    if severity:
        query = query.where(CallFlag.severity == severity)
    if since:
        query = query.where(Call.started_at >= since)
    query = query.order_by(Call.started_at.desc(), Call.id.desc(), CallFlag.start)
    with platform.uow() as uow:
        return _group_by_call(uow.session.execute(query), limit)


class FlagTypeUnknown(Invalid):
    """A flag type that is not in the catalogue."""


def _group_by_call(rows: Iterable[Any], limit: int) -> list[dict[str, Any]]:
    calls: dict[int, dict[str, Any]] = {}
    for flag, call in rows:
        if call.id not in calls:
            if len(calls) >= limit:
                break
            calls[call.id] = {
                "call_id": call.id,
                "started_at": call.started_at.isoformat(),
                "direction": call.direction,
                "business_type": call.business_type,
                "agent_code": call.agent_code,
                "duration_s": call.duration_s,
                "flags": [],
            }
        calls[call.id]["flags"].append(
            {
                "type": flag.type,
                "severity": flag.severity,
                "role": flag.role,
                "start": flag.start,
                "end": flag.end,
                "evidence": flag.evidence,
                "rule_set_version": flag.rule_set_version,
            }
        )
    return list(calls.values())
