"""Call metrics the machine judges read (通话指标): agent 字/分钟, fillers per minute, personal data.

Pure functions of a call's (masked) transcript and audio features under a rule set: the speech
rate counts what the agent said (masked personal data, spaces and punctuation excluded) over the
agent's voiced time, as the ``speech_rate`` rule does; the filler rate counts the rule set's
filler lexicon over agent speech time, as ``filler_words`` does; ``agent_personal_data`` counts
the personal numbers the agent read out (masked as ``[手机号]``, ``[身份证号]`` … in the
transcript). A metric that cannot be measured (too little agent speech) is None.
``agent_speech_s`` (seconds of agent speech) tells the judges whether the agent spoke at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qa_platform.domain.transcript import AudioFeatures, Transcript
from qa_platform.flags.call_view import CallView
from qa_platform.flags.catalogue import spoken_characters
from qa_platform.flags.rule_set import RuleParams, RuleSet
from qa_platform.masking import PLACEHOLDERS

#: Personal data the agent must not read out; the generic ``[数字]`` (amounts, dates) is not.
_PERSONAL = re.compile("|".join(re.escape(v) for k, v in PLACEHOLDERS.items() if k != "number"))


@dataclass(frozen=True, slots=True)
class Evidence:
    """A moment of the call behind a machine decision (证据): flag type or metric, span, text."""

    flag: str
    start: float
    end: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"flag": self.flag, "start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        return cls(str(data["flag"]), float(data["start"]), float(data["end"]), str(data["text"]))


@dataclass(frozen=True, slots=True)
class CallMetrics:
    """The measured values (None = not measurable) and the spans that show each one."""

    values: Mapping[str, float | None]
    evidence: Mapping[str, tuple[Evidence, ...]] = field(default_factory=dict)

    def value(self, metric: str) -> float | None:
        """The metric's value; None when unmeasured or unknown."""
        value = self.values.get(metric)
        return value if value is None or math.isfinite(value) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": dict(self.values),
            "evidence": {k: [e.to_dict() for e in v] for k, v in self.evidence.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallMetrics:
        evidence = {
            k: tuple(Evidence.from_dict(e) for e in v)
            for k, v in (data.get("evidence") or {}).items()
        }
        return cls(dict(data.get("values") or {}), evidence)


NO_METRICS = CallMetrics({})


def measure(
    transcript: Transcript | None,
    features: AudioFeatures,
    rules: RuleSet,
    *,
    direction: str = "in",
    business_type: str | None = None,
    audio: bool = True,
) -> CallMetrics:
    """The call's metrics under ``rules`` (its speech-rate and filler thresholds and lexicon).

    A chat (``audio=False``, 网络对话) has no speech rate; it records ``audio`` = 0 and the
    number of agent-side messages, so that judges know what could not have been measured.
    """
    measured = _measure(transcript, features, rules.resolve(direction, business_type))
    if audio:
        return measured
    values = dict(measured.values) | {"agent_cpm": None, "audio": 0.0}
    values["agent_messages"] = float(len(CallView(transcript, features).agent))
    evidence = {k: v for k, v in measured.evidence.items() if k != "agent_cpm"}
    return CallMetrics(values, evidence)


def _measure(
    transcript: Transcript | None, features: AudioFeatures, params: Mapping[str, RuleParams]
) -> CallMetrics:
    call = CallView(transcript, features)
    if not call.agent:
        return CallMetrics(
            {
                "agent_speech_s": 0.0,
                "agent_cpm": None,
                "filler_per_minute": None,
                "agent_personal_data": 0.0,
            }
        )
    span = (call.agent[0].segment.start, call.agent[-1].segment.end)
    cpm = _agent_cpm(call, params["speech_rate"]["min_agent_speech_s"])
    fillers = _filler_rate(call, params["filler_words"])
    personal = _personal_data(call)
    values = {
        "agent_speech_s": round(call.agent_speech_s, 3),
        "agent_cpm": cpm,
        "filler_per_minute": fillers,
        "agent_personal_data": personal[0],
    }
    evidence = {
        "agent_cpm": _span_evidence("agent_cpm", span, cpm, "坐席语速 {:.0f} 字/分钟"),
        "filler_per_minute": _span_evidence(
            "filler_per_minute", span, fillers, "坐席口头禅 {:.1f} 次/分钟"
        ),
        "agent_personal_data": personal[1],
    }
    return CallMetrics(values, evidence)


def _span_evidence(
    metric: str, span: tuple[float, float], value: float | None, text: str
) -> tuple[Evidence, ...]:
    if value is None:
        return ()
    return (Evidence(metric, round(span[0], 3), round(span[1], 3), text.format(value)),)


def _agent_cpm(call: CallView, min_speech_s: float) -> float | None:
    seconds = call.agent_speaking_s
    if seconds <= 0 or seconds < min_speech_s:
        return None
    characters = sum(spoken_characters(v.segment.text) for v in call.agent)
    return round(characters / (seconds / 60), 3)


def _filler_rate(call: CallView, p: RuleParams) -> float | None:
    seconds = call.agent_speech_s
    if seconds <= 0 or seconds < p["min_agent_speech_s"]:
        return None
    hits = sum(1 for _ in call.hits(p["lexicon"], call.agent))
    return round(hits / (seconds / 60), 3)


def _personal_data(call: CallView) -> tuple[float, tuple[Evidence, ...]]:
    found: list[Evidence] = []
    for v in call.agent:
        s = v.segment
        found.extend(
            Evidence("agent_personal_data", s.start, s.end, s.text[:40])
            for _ in _PERSONAL.finditer(s.text)
        )
    return float(len(found)), tuple(found)


__all__ = ["NO_METRICS", "CallMetrics", "Evidence", "measure"]
