"""The abnormal-call rules (异常监控规则): pure functions of a call view and their parameters.

Each rule returns findings; :func:`qa_platform.flags.evaluate` turns them into
:class:`~qa_platform.domain.transcript.Flag` objects stamped with the rule's type, severity and
the rule-set version. The rule names are a contract (docs/flags.md describes each).
Script rules (greeting, 工号, identity check, closing, fillers, speech rate) need agent speech;
a call without any agent segment gets none of them (a silent call is caught by the audio rules).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from qa_platform.domain.transcript import Role, Severity
from qa_platform.flags.call_view import CallView, SegmentView
from qa_platform.flags.rule_set import RuleParams

EPSILON = 1e-6  # thresholds fire "at" the value despite float rounding of measured times


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule found: role, time span, evidence and, where a lexicon term says so, severity."""

    role: Role
    start: float
    end: float
    evidence: str
    severity: Severity | None = None


Rule = Callable[[CallView, RuleParams], list[Finding]]


# ----------------------------------------------------------------------------- audio rules


def ultra_short(call: CallView, p: RuleParams) -> list[Finding]:
    """超短电话 (standard 7.2.2 b): the call lasts at most ``max_duration_s``."""
    d = call.features.duration_s
    if d > p["max_duration_s"] + EPSILON:
        return []
    return [Finding(Role.UNKNOWN, 0.0, d, f"duration {d:.1f} s ≤ {p['max_duration_s']:g} s")]


def ultra_long(call: CallView, p: RuleParams) -> list[Finding]:
    """超长电话 (standard 7.2.2 b): the call lasts at least ``min_duration_s``."""
    d = call.features.duration_s
    if d < p["min_duration_s"] - EPSILON:
        return []
    return [Finding(Role.UNKNOWN, 0.0, d, f"duration {d:.1f} s ≥ {p['min_duration_s']:g} s")]


def long_silence(call: CallView, p: RuleParams) -> list[Finding]:
    """Dead air: each silence (both sides quiet) of at least ``min_silence_s``."""
    threshold = p["min_silence_s"]
    spans = call.features.silence_segments
    if not spans and call.features.longest_silence_s >= threshold - EPSILON:
        longest = call.features.longest_silence_s
        return [
            Finding(
                Role.UNKNOWN,
                0.0,
                call.features.duration_s,
                f"longest silence {longest:.1f} s ≥ {threshold:g} s",
            )
        ]
    return [
        Finding(Role.UNKNOWN, s.start, s.end, f"silence {s.duration:.1f} s ≥ {threshold:g} s")
        for s in spans
        if s.duration >= threshold - EPSILON
    ]


def silence_ratio(call: CallView, p: RuleParams) -> list[Finding]:
    """The silent share of a call of at least ``min_duration_s`` reaches ``max_ratio``."""
    f = call.features
    if f.duration_s < p["min_duration_s"] - EPSILON or f.silence_ratio < p["max_ratio"] - EPSILON:
        return []
    evidence = f"silence {f.silence_ratio:.0%} of {f.duration_s:.1f} s ≥ {p['max_ratio']:.0%}"
    return [Finding(Role.UNKNOWN, 0.0, f.duration_s, evidence)]


# ----------------------------------------------------------------------------- phrase rules


def _phrase_findings(call: CallView, p: RuleParams, roles: Iterable[Role]) -> list[Finding]:
    hits = call.hits(p["lexicon"], call.by_role(*roles))
    return [Finding(h.role, h.start, h.end, h.evidence, h.match.term.severity) for h in hits]


def abuse_agent(call: CallView, p: RuleParams) -> list[Finding]:
    """辱骂、顶撞 by the agent (standard 7.5.1 d); quoting the customer does not count."""
    return _phrase_findings(call, p, [Role.AGENT])


def abuse_customer(call: CallView, p: RuleParams) -> list[Finding]:
    """The customer insults the agent."""
    return _phrase_findings(call, p, [Role.CUSTOMER])


def complaint_risk(call: CallView, p: RuleParams) -> list[Finding]:
    """投诉风险: the customer (or an unattributed speaker) threatens complaint or escalation."""
    return _phrase_findings(call, p, [Role.CUSTOMER, Role.UNKNOWN])


def misleading_promise(call: CallView, p: RuleParams) -> list[Finding]:
    """销售误导: the agent (or an unattributed speaker) promises principal, returns or no risk."""
    return _phrase_findings(call, p, [Role.AGENT, Role.UNKNOWN])


# ----------------------------------------------------------------------------- script rules


def _first_words(views: list[SegmentView], limit: int = 30) -> str:
    text = "".join(v.segment.text for v in views[:3])
    return text[:limit] + ("…" if len(text) > limit else "")


def _missing_opening_phrase(call: CallView, p: RuleParams, what: str) -> list[Finding]:
    if not call.agent:
        return []
    first = call.agent[0].segment.start
    limit = first + p["within_s"]
    if any(h.start < limit for h in call.hits(p["lexicon"], call.agent)):
        return []
    evidence = (
        f"no {what} in the first {p['within_s']:g} s of agent speech: “{_first_words(call.agent)}”"
    )
    return [Finding(Role.AGENT, first, limit, evidence)]


def missing_greeting(call: CallView, p: RuleParams) -> list[Finding]:
    """问候: the agent greets within the first ``within_s`` seconds of agent speech (seeds/003)."""
    return _missing_opening_phrase(call, p, "greeting")


def missing_agent_id(call: CallView, p: RuleParams) -> list[Finding]:
    """自报工号: the agent states the staff number early in the call (seeds/003 二(二)2)."""
    return _missing_opening_phrase(call, p, "工号 (agent id)")


def missing_identity_check(call: CallView, p: RuleParams) -> list[Finding]:
    """双因素验证 before policy details are read out (seeds/003 二(一)2)."""
    details = sorted(call.hits(p["policy_lexicon"], call.agent), key=lambda h: h.start)
    if not details:
        return []
    first = details[0]
    factors = {
        h.match.term.factor
        for h in call.hits(p["identity_lexicon"], call.agent)
        if h.start < first.start and h.match.term.factor not in ("", "generic")
    }
    if len(factors) >= p["min_factors"]:
        return []
    found = ", ".join(sorted(factors)) or "none"
    evidence = (
        f"policy details {first.evidence} at {first.start:.1f} s after {len(factors)} identity "
        f"factor(s) ({found}); {p['min_factors']} required"
    )
    return [Finding(Role.AGENT, first.start, first.end, evidence)]


def missing_closing(call: CallView, p: RuleParams) -> list[Finding]:
    """结束语: a closing phrase in the last ``last_s`` seconds of agent speech (seeds/003 二(一)5)."""
    if not call.agent:
        return []
    last = max(v.segment.end for v in call.agent)
    since = last - p["last_s"]
    if any(h.end > since for h in call.hits(p["lexicon"], call.agent)):
        return []
    tail = call.agent[-1].segment.text[-30:]
    evidence = f"no closing phrase in the last {p['last_s']:g} s of agent speech: “{tail}”"
    return [Finding(Role.AGENT, max(since, 0.0), last, evidence)]


def filler_words(call: CallView, p: RuleParams) -> list[Finding]:
    """口头禅: agent filler words per minute of agent speech reach ``max_per_minute``."""
    minutes = call.agent_speech_s / 60
    if not call.agent or call.agent_speech_s < p["min_agent_speech_s"] - EPSILON:
        return []
    hits = list(call.hits(p["lexicon"], call.agent))
    rate = len(hits) / minutes
    if rate < p["max_per_minute"] - EPSILON:
        return []
    counts = Counter(h.match.term.text for h in hits)
    top = ", ".join(f"{t}×{n}" for t, n in counts.most_common(5))
    evidence = (
        f"{len(hits)} filler words in {minutes:.1f} min of agent speech = {rate:.1f}/min "
        f"≥ {p['max_per_minute']:g}/min ({top})"
    )
    return [Finding(Role.AGENT, call.agent[0].segment.start, call.agent[-1].segment.end, evidence)]


def speech_rate(call: CallView, p: RuleParams) -> list[Finding]:
    """语速: agent characters per minute outside ``min_cpm``–``max_cpm`` ± ``tolerance_cpm``."""
    seconds = call.agent_speech_s
    if not call.agent or seconds < p["min_agent_speech_s"] - EPSILON:
        return []
    characters = sum(len(v.norm.text) for v in call.agent)
    cpm = characters / (seconds / 60)
    low, high = p["min_cpm"] - p["tolerance_cpm"], p["max_cpm"] + p["tolerance_cpm"]
    if low - EPSILON <= cpm <= high + EPSILON:
        return []
    side = "slow" if cpm < low else "fast"
    evidence = (
        f"agent speaks {cpm:.0f} 字/分钟 ({characters} characters in {seconds:.1f} s), too {side}; "
        f"allowed {p['min_cpm']:g}–{p['max_cpm']:g} ± {p['tolerance_cpm']:g}"
    )
    return [Finding(Role.AGENT, call.agent[0].segment.start, call.agent[-1].segment.end, evidence)]


def interruption(call: CallView, p: RuleParams) -> list[Finding]:
    """抢话: the agent starts talking while the customer is talking (overlap ≥ ``min_overlap_s``)."""
    events = []
    customers = call.by_role(Role.CUSTOMER)
    for a in call.agent:
        for c in customers:
            sa, sc = a.segment, c.segment
            if sc.start < sa.start < sc.end:
                overlap = min(sa.end, sc.end) - sa.start
                if overlap >= p["min_overlap_s"] - EPSILON:
                    events.append((sa, sc, overlap))
    if len(events) <= p["max_count"]:
        return []
    return [
        Finding(
            Role.AGENT,
            sa.start,
            sa.start + overlap,
            f"agent started at {sa.start:.1f} s while the customer was speaking "
            f"(overlap {overlap:.1f} s): “{sa.text[:20]}”",
        )
        for sa, _sc, overlap in events
    ]


def asr_unreliable(call: CallView, p: RuleParams) -> list[Finding]:
    """Segments the ASR guard marked unreliable or with confidence below ``min_confidence``."""
    findings = []
    for v in call.segments:
        s = v.segment
        low = s.confidence < p["min_confidence"] - EPSILON
        if s.unreliable or low:
            reason = s.unreliable or f"confidence {s.confidence:.2f} < {p['min_confidence']:g}"
            findings.append(Finding(s.role, s.start, s.end, f"{reason}: “{s.text[:30]}”"))
    return findings


#: The catalogue in evaluation order; the keys are the flag types (a contract).
CATALOGUE: dict[str, Rule] = {
    "ultra_short": ultra_short,
    "ultra_long": ultra_long,
    "long_silence": long_silence,
    "silence_ratio": silence_ratio,
    "abuse_agent": abuse_agent,
    "abuse_customer": abuse_customer,
    "missing_greeting": missing_greeting,
    "missing_agent_id": missing_agent_id,
    "missing_identity_check": missing_identity_check,
    "missing_closing": missing_closing,
    "filler_words": filler_words,
    "speech_rate": speech_rate,
    "interruption": interruption,
    "complaint_risk": complaint_risk,
    "misleading_promise": misleading_promise,
    "asr_unreliable": asr_unreliable,
}
