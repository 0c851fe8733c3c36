"""Call metadata and statuses as plain types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from qa_platform.domain.errors import Invalid, NotFound


class CallStatus(StrEnum):
    INGESTED = "ingested"
    QUEUED = "queued"
    PROCESSING = "processing"
    ANALYSED = "analysed"
    FAILED = "failed"
    PURGED = "purged"


class Direction(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class UserRole(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"  # 质检主管
    INSPECTOR = "inspector"  # 质检员
    AGENT = "agent"  # 客服代表


class CallNotFound(NotFound):
    """No call with that id (or the caller may not know of it)."""


class MetadataError(Invalid):
    """A call's metadata is malformed; the message names the field."""


# The fields a manifest row, a CLI call or an API upload may give about a call.
METADATA_FIELDS = (
    "agent",
    "team",
    "direction",
    "business_type",
    "started_at",
    "external_id",
    "customer_phone",
    "agent_channel",
    "satisfaction",
    "complaint",
)


@dataclass(frozen=True)
class CallMetadata:
    """What the telephony system tells us about a call (manifest row or CLI flags)."""

    agent_code: str | None = None
    team: str | None = None
    direction: Direction = Direction.INBOUND
    business_type: str = ""
    started_at: datetime | None = None
    external_id: str | None = None
    customer_phone: str | None = None
    agent_channel: int | None = None
    satisfaction: int | None = None
    complaint: bool = False

    @classmethod
    def parse(cls, raw: dict[str, str | None]) -> CallMetadata:
        """Build from strings (CSV row, CLI); raise ``MetadataError`` naming the bad field."""
        get = lambda k: (raw.get(k) or "").strip() or None  # noqa: E731
        return cls(
            agent_code=get("agent"),
            team=get("team"),
            direction=_direction(get("direction")),
            business_type=get("business_type") or "",
            started_at=_when(get("started_at")),
            external_id=get("external_id"),
            customer_phone=get("customer_phone"),
            agent_channel=_channel(get("agent_channel")),
            satisfaction=_satisfaction(get("satisfaction")),
            complaint=_flag(get("complaint")),
        )


def _direction(value: str | None) -> Direction:
    if value is None:
        return Direction.INBOUND
    try:
        return Direction(value.lower())
    except ValueError:
        raise MetadataError(f"direction {value!r} must be 'in' or 'out'") from None


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) > 64:
            raise ValueError(value)
        at = datetime.fromisoformat(value)
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        in_range = EARLIEST_CALL <= at <= LATEST_CALL
    except (ValueError, OverflowError):
        raise MetadataError(f"started_at {value[:64]!r} is not an ISO date-time") from None
    if not in_range:
        raise MetadataError(
            f"started_at {value[:64]!r} is out of range "
            f"({EARLIEST_CALL.year}..{LATEST_CALL.year - 1})"
        )
    return at


# calls start between these instants: local-time conversions and report periods stay valid
EARLIEST_CALL = datetime(1970, 1, 2, tzinfo=UTC)
LATEST_CALL = datetime(2200, 1, 1, tzinfo=UTC)


def _channel(value: str | None) -> int | None:
    if value is None:
        return None
    mapping = {"0": 0, "left": 0, "l": 0, "1": 1, "right": 1, "r": 1}
    if value.lower() not in mapping:
        raise MetadataError(f"agent_channel {value!r} must be 0/left or 1/right")
    return mapping[value.lower()]


RATING_MIN, RATING_MAX = 1, 5  # a satisfaction rating (满意度评分); outside it: not a valid answer
SATISFIED_FROM = 4  # 4 and 5 count as 满意 (A.1: 表示满意的客户数量)


def parse_rating(value: str | None, field: str = "satisfaction") -> int | None:
    """A rating 1–5 given as text; ``None`` when absent; ``MetadataError`` naming ``field``."""
    if value is None:
        return None
    if (
        not (value.isascii() and value.isdigit())
        or len(value) > 3
        or not RATING_MIN <= int(value) <= RATING_MAX
    ):
        raise MetadataError(f"{field} {value[:20]!r} must be an integer from 1 to 5")
    return int(value)


def _satisfaction(value: str | None) -> int | None:
    return parse_rating(value)


def _flag(value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() in {"1", "true", "yes", "y", "是"}:
        return True
    if value.lower() in {"0", "false", "no", "n", "否"}:
        return False
    raise MetadataError(f"complaint {value!r} must be yes or no")


_DIGITS = re.compile(r"\D")


def mask_phone(phone: str | None) -> str | None:
    """Keep only what a person needs to recognise the number: 138****5678."""
    if not phone:
        return None
    digits = _DIGITS.sub("", phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
