"""Satisfaction survey import (满意度回访导入): answers that arrive after the call.

A survey system reports, for each answer, the call's external id, the survey's own id, the
rating (1–5) and when the customer answered. Each row is checked on its own (a bad row is
reported with its line number and the batch goes on); a row already imported (same
``survey_id``) is skipped, so a file can be imported twice. The call's ``satisfaction`` becomes
its latest answer's rating and its daily roll-up slice is counted again in the same
transaction, so A.1 客户满意度 (``scoring.reports.metrics.volume_metrics``) counts every customer
who gave a valid rating — inspected or not.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from qa_platform.domain.calls import MetadataError, parse_rating
from qa_platform.domain.errors import Invalid
from qa_platform.domain.messages import render
from qa_platform.services.context import Platform
from storage.audit import append_audit
from storage.models import Call
from storage.models_surveys import SurveyResponseRow
from storage.rollups import refresh_calls

MAX_ROWS = 100_000  # one import; a bigger file is split by the survey system's export
MAX_BYTES = 20 * 1024 * 1024
COLUMNS = ("call_external_id", "survey_id", "rating", "answered_at", "channel")
REQUIRED = ("call_external_id", "survey_id", "rating", "answered_at")
CHANNELS = frozenset({"sms", "ivr", "wechat", "app", "email", "phone", "other"})
MAX_ANSWER_DELAY = timedelta(days=90)  # an answer later than this is not about the call


class SurveyFileInvalid(Invalid):
    """The file as a whole cannot be read (size, encoding, header)."""


@dataclass
class SurveyRowResult:
    line: int
    status: str  # imported | duplicate | rejected
    survey_id: str = ""
    call_id: int | None = None
    error_key: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def error(self, lang: str) -> str:
        return render(self.error_key, self.params, lang) if self.error_key else ""

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("error_key", "params")}
        return out | {"error": self.error(lang)}


@dataclass
class SurveyImport:
    rows: list[SurveyRowResult]

    @property
    def counts(self) -> dict[str, int]:
        out = {"imported": 0, "duplicate": 0, "rejected": 0}
        for r in self.rows:
            out[r.status] += 1
        return out

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {"counts": self.counts, "rows": [r.to_dict(lang) for r in self.rows]}


def read_survey_csv(data: bytes) -> list[dict[str, str | None]]:
    """The rows of a survey CSV (UTF-8, header line with the ``COLUMNS`` it uses)."""
    if len(data) > MAX_BYTES:
        raise SurveyFileInvalid.of("survey.too_big", limit_mib=MAX_BYTES // (1024 * 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SurveyFileInvalid.of("survey.not_utf8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        raise SurveyFileInvalid.of(
            "survey.header", missing=missing or "-", unknown=unknown or "-", columns=list(COLUMNS)
        )
    rows: list[dict[str, str | None]] = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise SurveyFileInvalid.of("survey.too_many_rows", limit=MAX_ROWS)
        rows.append({(k or "").strip(): v for k, v in row.items() if k is not None})
    return rows


def import_surveys(
    platform: Platform, rows: Iterable[Mapping[str, Any]], actor: str
) -> SurveyImport:
    """Check and store each answer; one transaction for the rows that pass, one audit event."""
    now = platform.clock.now()
    results: list[SurveyRowResult] = []
    touched: set[int] = set()
    with platform.uow() as uow:
        s = uow.session
        seen: set[str] = set()
        for line, raw in enumerate(rows, start=2):  # line 1 is the header
            result = _one(s, line, raw, now, actor, seen)
            results.append(result)
            if result.status == "imported" and result.call_id is not None:
                touched.add(result.call_id)
        for call_id in sorted(touched):
            _latest_rating(s, call_id)
        refresh_calls(s, touched)
        done = SurveyImport(results)
        append_audit(
            s,
            actor=actor,
            action="survey.import",
            object_type="survey_import",
            object_id=now.strftime("%Y%m%dT%H%M%S"),
            details=done.counts | {"calls": len(touched)},
        )
        uow.commit()
    return done


def _one(
    s: Any, line: int, raw: Mapping[str, Any], now: datetime, actor: str, seen: set[str]
) -> SurveyRowResult:
    survey_id = _text(raw.get("survey_id"))
    result = SurveyRowResult(line, "rejected", survey_id[:128])
    external = _text(raw.get("call_external_id"))
    if not survey_id or len(survey_id) > 128 or not survey_id.isprintable():
        return _reject(result, "survey.bad_survey_id")
    if not external or len(external) > 128:
        return _reject(result, "survey.bad_call_id")
    try:
        rating = _rating(raw.get("rating"))
    except MetadataError:
        return _reject(result, "survey.bad_rating", value=str(raw.get("rating"))[:20])
    answered = _instant(raw.get("answered_at"))
    if answered is None:
        return _reject(result, "survey.bad_time", value=str(raw.get("answered_at"))[:40])
    channel = _text(raw.get("channel")).lower() or "other"
    if channel not in CHANNELS:
        return _reject(result, "survey.bad_channel", value=channel[:20], channels=sorted(CHANNELS))
    call = s.scalar(select(Call).where(Call.external_id == external))
    if call is None:
        return _reject(result, "survey.unknown_call", call=external)
    result.call_id = call.id
    if call.purged_at is not None:
        return _reject(result, "survey.purged_call", call=external)
    started = _aware(call.started_at)
    if not started <= answered <= min(started + MAX_ANSWER_DELAY, now + timedelta(hours=1)):
        return _reject(result, "survey.time_range", call=external, started=started.isoformat())
    known = survey_id in seen or s.scalar(
        select(SurveyResponseRow.id).where(SurveyResponseRow.survey_id == survey_id)
    )
    if known:
        result.status = "duplicate"
        return result
    seen.add(survey_id)
    s.add(
        SurveyResponseRow(
            survey_id=survey_id,
            call_id=call.id,
            rating=rating,
            channel=channel,
            answered_at=answered,
            imported_at=now,
            imported_by=actor[:64],
        )
    )
    result.status = "imported"
    return result


def _latest_rating(s: Any, call_id: int) -> None:
    s.flush()
    latest = s.scalar(
        select(SurveyResponseRow.rating)
        .where(SurveyResponseRow.call_id == call_id)
        .order_by(SurveyResponseRow.answered_at.desc(), SurveyResponseRow.id.desc())
        .limit(1)
    )
    call = s.get(Call, call_id)
    if call is not None and latest is not None:
        call.satisfaction = int(latest)


def _reject(result: SurveyRowResult, key: str, **params: Any) -> SurveyRowResult:
    result.status, result.error_key, result.params = (
        "rejected",
        key,
        {"line": result.line, **params},
    )
    return result


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _rating(value: Any) -> int:
    if isinstance(value, bool):
        raise MetadataError("rating must be an integer")
    if isinstance(value, int | float):
        if not (math.isfinite(value) and float(value).is_integer()):
            raise MetadataError("rating must be an integer")
        value = str(int(value))
    rating = parse_rating(_text(value) or None, "rating")
    if rating is None:
        raise MetadataError("rating is required")
    return rating


def _instant(value: Any) -> datetime | None:
    text = _text(value)
    if not text or len(text) > 40:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        return None  # a local time without its zone is ambiguous: the file must say it
    return at.astimezone(UTC)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
