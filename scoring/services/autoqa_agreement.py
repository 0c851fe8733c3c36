"""Machine–human agreement of auto-QA (机器与人工一致性) over stored rows: ``qa autoqa agreement``.

Pairs each machine-judged item of a call's latest auto evaluation with the final human result
(the current version) of its random-stream evaluation; the statistics are
:mod:`scoring.agreement`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_platform.domain.errors import Invalid
from qa_platform.services.context import Platform
from scoring.agreement import AgreementReport, agreement_report
from scoring.services.autoqa_reads import latest_auto_items
from storage.models import Call
from storage.models_scoring import (
    EvaluationRow,
    EvaluationVersionRow,
    ItemScoreRow,
)


class AgreementInputError(Invalid):
    """A bad period or threshold for the agreement report (the message names it)."""


def parse_period(value: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``YYYY-MM`` as the month's [start, end) in the centre's time zone."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if match is None or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2200:
        raise AgreementInputError.of("autoqa.bad_period", value=repr(value))
    year, month = int(match[1]), int(match[2])
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


def machine_human_agreement(
    platform: Platform, period: str, threshold: float | None = None
) -> AgreementReport:
    """Machine against the final human result of random-stream evaluations of calls started in
    ``period``, per machine-judged item and pooled; items below ``threshold`` kappa (default
    ``QA_AUTOQA_KAPPA_THRESHOLD``) are marked weak."""
    settings = platform.settings
    limit = settings.autoqa_kappa_threshold if threshold is None else threshold
    if not (math.isfinite(limit) and -1 <= limit <= 1):
        raise AgreementInputError.of("autoqa.bad_threshold", value=repr(threshold))
    start, end = parse_period(period, ZoneInfo(settings.centre_timezone))
    with platform.uow() as uow:
        return agreement_between(uow.session, start, end, period, limit, settings.report_confidence)


def agreement_between(
    session: Session,
    start: datetime,
    end: datetime,
    label: str,
    threshold: float,
    confidence: float = 0.95,
) -> AgreementReport:
    """The agreement report of the calls started in [start, end) (``label`` names the period):
    what ``qa autoqa agreement`` prints and the monthly report stores."""
    human = _final_human_items(session, start, end)
    machine = latest_auto_items(session, human)
    pairs = _paired_decisions(human, machine)
    return agreement_report(label, pairs, threshold, len(human), confidence)


def _final_human_items(
    session: Session, start: datetime, end: datetime
) -> dict[int, dict[str, bool]]:
    """Per call, each applicable item's pass/fail in the evaluation's current version."""
    rows = session.execute(
        select(EvaluationRow.call_id, ItemScoreRow)
        .join(Call, Call.id == EvaluationRow.call_id)
        .join(
            EvaluationVersionRow,
            (EvaluationVersionRow.evaluation_id == EvaluationRow.id)
            & (EvaluationVersionRow.number == EvaluationRow.current_version),
        )
        .join(ItemScoreRow, ItemScoreRow.version_id == EvaluationVersionRow.id)
        .where(
            EvaluationRow.stream == "random",
            EvaluationRow.current_version >= 1,
            Call.started_at >= start,
            Call.started_at < end,
        )
    )
    out: dict[int, dict[str, bool]] = {}
    for call_id, item in rows:
        decisions = out.setdefault(call_id, {})
        if not item.na:
            lost = item.max_points > 0 and (item.score or 0.0) < item.max_points
            decisions[item.item_code] = not (item.violated or lost)
    return out


def _machine_passed(item: Mapping[str, Any]) -> bool:
    score = item["score"]
    return not item["violated"] and (score is None or score >= item["points"])


def _paired_decisions(
    human: Mapping[int, Mapping[str, bool]], machine: Mapping[int, list[dict[str, Any]]]
) -> dict[str, list[tuple[bool, bool]]]:
    pairs: dict[str, list[tuple[bool, bool]]] = {}
    for call_id, decisions in sorted(human.items()):
        for item in machine.get(call_id, ()):
            if item["judged"] and item["code"] in decisions:
                pair = (_machine_passed(item), decisions[item["code"]])
                pairs.setdefault(item["code"], []).append(pair)
    return dict(sorted(pairs.items()))


__all__ = [
    "AgreementInputError",
    "agreement_between",
    "machine_human_agreement",
    "parse_period",
]
