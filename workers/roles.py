"""Speaker roles (角色): which speaker is the agent (客服代表) and which the customer.

Stereo: the channel map decides, with confidence 1.0. Mono: cue phrases from
``qa_platform/data/role_cues.yaml`` (greeting with company name, 工号, closing phrase, customer
questions; English cues too) are scored per speaker; the speaker with the strongest agent
evidence becomes the agent and the confidence grows with the margin.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from qa_platform.domain.errors import Invalid
from qa_platform.domain.transcript import Role

MAX_CUE_CONFIDENCE = 0.98  # cues are evidence, never certainty
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)


class RoleCuesError(Invalid):
    """The role cue file is malformed; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Cue:
    name: str
    role: Role
    weight: float
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class CueBook:
    cues: tuple[Cue, ...]
    opening_s: float = 20.0
    opening_bonus: float = 1.5
    version: str = "1"


@dataclass(slots=True)
class SpeakerRole:
    """A speaker's role, how sure we are (0..1), and the cues that decided it."""

    speaker: str
    role: Role
    confidence: float
    evidence: list[str] = field(default_factory=list)
    channel: int | None = None  # stereo only

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "speaker": self.speaker,
            "role": str(self.role),
            "confidence": round(self.confidence, 3),
            "evidence": list(self.evidence),
        }
        if self.channel is not None:
            record["channel"] = self.channel
        return record


def normalise(text: str) -> str:
    """Lower case without spaces or punctuation, the form cue patterns are written for."""
    return _STRIP.sub("", text).lower()


def parse_cues(data: dict[str, Any]) -> CueBook:
    """Validate a loaded cue document; raises :class:`RoleCuesError` naming the bad entry."""
    cues = []
    for i, raw in enumerate(data.get("cues") or []):
        try:
            cues.append(
                Cue(
                    str(raw["name"]),
                    Role(raw["role"]),
                    float(raw["weight"]),
                    re.compile(raw["pattern"]),
                )
            )
        except (KeyError, ValueError, TypeError, re.error) as exc:
            raise RoleCuesError(f"role cue #{i} ({raw!r}) is invalid: {exc}") from exc
    if not cues:
        raise RoleCuesError("role cue file has no cues")
    return CueBook(
        tuple(cues),
        float(data.get("opening_s", 20.0)),
        float(data.get("opening_bonus", 1.5)),
        str(data.get("version", "1")),
    )


@lru_cache(maxsize=1)
def default_cues() -> CueBook:
    """The packaged cue book (qa_platform/data/role_cues.yaml)."""
    text = (resources.files("qa_platform") / "data" / "role_cues.yaml").read_text("utf-8")
    return parse_cues(yaml.safe_load(text))


def roles_from_channels(channels: int, agent_channel: int) -> list[SpeakerRole]:
    """Stereo: the channel map names the agent side; the other side is the customer."""
    if channels == 1:
        return [SpeakerRole("unknown", Role.UNKNOWN, 0.0)]
    return [
        SpeakerRole("agent", Role.AGENT, 1.0, ["channel map"], agent_channel),
        SpeakerRole("customer", Role.CUSTOMER, 1.0, ["channel map"], 1 - agent_channel),
    ]


def _score(
    utterances: Iterable[tuple[str, float, str]], book: CueBook
) -> tuple[dict[str, dict[Role, float]], dict[str, list[str]]]:
    scores: dict[str, dict[Role, float]] = {}
    evidence: dict[str, list[str]] = {}
    for speaker, start, text in utterances:
        per = scores.setdefault(speaker, {Role.AGENT: 0.0, Role.CUSTOMER: 0.0})
        flat = normalise(text)
        for cue in book.cues:
            if cue.pattern.search(flat):
                bonus = book.opening_bonus if start < book.opening_s else 1.0
                per[cue.role] += cue.weight * bonus
                evidence.setdefault(speaker, []).append(cue.name)
    return scores, evidence


def roles_from_cues(
    utterances: Sequence[tuple[str, float, str]], book: CueBook | None = None
) -> list[SpeakerRole]:
    """Mono: roles from (speaker, start_s, text) utterances.

    The speaker with the largest (agent − customer) cue score is the agent, the others are
    customers; confidence = 0.5 + 0.5·tanh(margin / 4). With no cue at all, the first speaker
    is taken as the agent (agents open inbound calls) with confidence 0.55.
    """
    book = book or default_cues()
    scores, evidence = _score(utterances, book)
    speakers = list(dict.fromkeys(s for s, _, _ in sorted(utterances, key=lambda u: u[1])))
    if not speakers:
        return []
    net = {s: scores[s][Role.AGENT] - scores[s][Role.CUSTOMER] for s in speakers}
    ranked = sorted(speakers, key=lambda s: net[s], reverse=True)
    margin = net[ranked[0]] - (net[ranked[1]] if len(ranked) > 1 else 0.0)
    if margin <= 0:
        return _first_speaker_is_agent(speakers, evidence)
    confidence = min(MAX_CUE_CONFIDENCE, 0.5 + 0.5 * math.tanh(margin / 4))
    agent = ranked[0]
    return [
        SpeakerRole(
            s,
            Role.AGENT if s == agent else Role.CUSTOMER,
            confidence,
            sorted(set(evidence.get(s, []))),
        )
        for s in speakers
    ]


def _first_speaker_is_agent(
    speakers: list[str], evidence: dict[str, list[str]]
) -> list[SpeakerRole]:
    if len(speakers) == 1 and not evidence:
        return [SpeakerRole(speakers[0], Role.UNKNOWN, 0.0)]
    return [
        SpeakerRole(
            s, Role.AGENT if i == 0 else Role.CUSTOMER, 0.55, ["spoke first"] if i == 0 else []
        )
        for i, s in enumerate(speakers)
    ]
