"""Generated calls of the demo history: start times in opening hours, call rows, features, flags."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

GENERATED = "generated"
BUSINESS_TYPES = ("理赔咨询", "保单查询", "续保", "退保", "投诉处理", "保全变更")
FLAGS = (  # type, severity, role, share of calls, evidence
    ("long_silence", "warning", "unknown", 0.10, "通话中出现 {n} 秒静默"),
    ("missing_greeting", "warning", "agent", 0.05, "坐席开口后 10 秒内没有问候语"),
    ("missing_agent_id", "warning", "agent", 0.04, "坐席开口后 30 秒内未自报工号"),
    ("missing_identity_check", "warning", "agent", 0.03, "办理业务前未核验客户身份"),
    ("complaint_risk", "critical", "customer", 0.02, "客户提到“投诉”“12378”"),
    ("abuse_agent", "critical", "agent", 0.002, "坐席使用不文明用语"),
)


def started_at(rng: random.Random, day: date, zone: ZoneInfo) -> datetime:
    minute = rng.randrange(8 * 60 + 30, 20 * 60)  # the centre's opening hours
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    return local.astimezone(UTC)


def call_row(
    rng: random.Random, n: int, seed: int, agent: tuple[int, str, int | None], at: datetime
) -> dict[str, Any]:
    agent_id, code, team_id = agent
    now = datetime.now(UTC)
    return {
        "id": n,
        "external_id": f"GEN-{seed}-{n:06d}",
        "agent_code": code,
        "agent_id": agent_id,
        "team_id": team_id,
        "direction": "in" if rng.random() < 0.8 else "out",
        "business_type": rng.choice(BUSINESS_TYPES),
        "started_at": at,
        "customer_phone_masked": f"13{rng.randrange(10)}****{rng.randrange(10000):04d}",
        "agent_channel": 0,
        "satisfaction": rng.choice((None, 3, 4, 4, 5, 5, 5, 2, 1)),
        "status": "analysed",
        "error": None,
        "duration_s": round(min(1800.0, rng.lognormvariate(5.3, 0.6)), 1),
        "channels": 2,
        "sample_rate": 8000,
        "audio_format": GENERATED,
        "original_filename": GENERATED,
        "retention_class": "standard",
        "retain_until": at + timedelta(days=3 * 365),
        "legal_hold": False,
        "purged_at": None,
        "created_at": now,
        "updated_at": now,
    }


def features_of(rng: random.Random, call: dict[str, Any]) -> dict[str, Any]:
    d = call["duration_s"]
    silence = round(rng.uniform(0.03, 0.25), 4)
    agent_talk = round(d * rng.uniform(0.35, 0.55), 1)
    return {
        "duration_s": d,
        "silence_ratio": silence,
        "longest_silence_s": round(min(d, rng.expovariate(1 / 6)), 1),
        "talk_time_s": {"agent": agent_talk, "customer": round(d * (1 - silence) - agent_talk, 1)},
        "overlap_s": round(d * rng.uniform(0.0, 0.04), 1),
        "speech_rate_cpm": round(rng.gauss(210, 25)),
        GENERATED: True,
    }


def flags_of(rng: random.Random, call: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for ftype, severity, role, share, evidence in FLAGS:
        if rng.random() >= share:
            continue
        start = round(rng.uniform(0, max(1.0, call["duration_s"] - 10)), 1)
        end = round(min(call["duration_s"], start + rng.uniform(3, 30)), 1)
        rows.append(
            {
                "call_id": call["id"],
                "type": ftype,
                "severity": severity,
                "role": role,
                "start": start,
                "end": end,
                "evidence": evidence.format(n=round(end - start)),
                "rule_set_version": GENERATED,
                "created_at": call["created_at"],
                "evidence_key": "",
                "evidence_params": {},
            }
        )
    return rows
