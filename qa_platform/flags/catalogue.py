"""The abnormal-call rules (异常监控规则): pure functions of a call view and their parameters.

Each rule returns findings; :func:`qa_platform.flags.evaluate` turns them into
:class:`~qa_platform.domain.transcript.Flag` objects stamped with the rule's type, severity and
the rule-set version. The rule names are a contract (docs/flags.md describes each).
Script rules (greeting, 工号, identity check, closing, fillers, speech rate) need agent speech;
a call without any agent segment gets none of them (a silent call is caught by the audio rules).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from qa_platform.domain.transcript import Role
from qa_platform.flags.call_view import CallView, PhraseHit, SegmentView
from qa_platform.flags.customer_emotion import customer_negative_end
from qa_platform.flags.findings import Finding, Rule, number_follows
from qa_platform.flags.identity import missing_identity_check
from qa_platform.flags.rule_set import RuleParams
from qa_platform.masking import DIGIT_CHARS, PLACEHOLDERS
from qa_platform.text import normalise

WORD_TIME_SLACK_S = 1.0  # Whisper's word times can be this far off at a turn's edges
EPSILON = 1e-6  # thresholds fire "at" the value despite float rounding of measured times
#: Masked personal data (``[手机号]``, ``＊＊＊``): not spoken characters for the speech rate.
_MASK_TOKENS = re.compile("|".join(re.escape(v) for v in PLACEHOLDERS.values()) + r"|[＊*]+")
#: The agent's own number said as a staff number: 我是3821号, 我是坐席3821号, 二零四七号客服为您服务.
_SELF_NUMBER = re.compile(  # Whisper puts spaces around a digit run: "2047 号 客服"
    f"我是\\s*(?:在线|人工)?\\s*(?:坐席|座席|客服)?\\s*[{DIGIT_CHARS}]{{1,8}}\\s*号"
    f"|[{DIGIT_CHARS}]{{2,8}}\\s*号\\s*(?:坐席|座席|客服|话务员|专员|服务员)"
    f"|(?:在线|人工)?(?:坐席|座席|客服)\\s*[{DIGIT_CHARS}]{{3,8}}\\s*号"  # 客服3821号为您服务
)


# ----------------------------------------------------------------------------- audio rules


def ultra_short(call: CallView, p: RuleParams) -> list[Finding]:
    """超短电话 (standard 7.2.2 b): the call lasts at most ``max_duration_s``."""
    d = call.features.duration_s
    if d > p["max_duration_s"] + EPSILON:
        return []
    params = {"duration": d, "limit": p["max_duration_s"]}
    return [Finding(Role.UNKNOWN, 0.0, d, "ultra_short.duration", params)]


def ultra_long(call: CallView, p: RuleParams) -> list[Finding]:
    """超长电话 (standard 7.2.2 b): the call lasts at least ``min_duration_s``."""
    d = call.features.duration_s
    if d < p["min_duration_s"] - EPSILON:
        return []
    params = {"duration": d, "limit": p["min_duration_s"]}
    return [Finding(Role.UNKNOWN, 0.0, d, "ultra_long.duration", params)]


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
                "long_silence.longest",
                {"length": longest, "limit": threshold},
            )
        ]
    return [
        Finding(
            Role.UNKNOWN,
            s.start,
            s.end,
            "long_silence.span",
            {"length": s.duration, "limit": threshold},
        )
        for s in spans
        if s.duration >= threshold - EPSILON
    ]


def silence_ratio(call: CallView, p: RuleParams) -> list[Finding]:
    """The silent share of a call of at least ``min_duration_s`` reaches ``max_ratio``."""
    f = call.features
    if f.duration_s < p["min_duration_s"] - EPSILON or f.silence_ratio < p["max_ratio"] - EPSILON:
        return []
    params = {"ratio": f.silence_ratio, "duration": f.duration_s, "limit": p["max_ratio"]}
    return [Finding(Role.UNKNOWN, 0.0, f.duration_s, "silence_ratio.ratio", params)]


# ----------------------------------------------------------------------------- phrase rules


def _phrase_findings(call: CallView, p: RuleParams, roles: Iterable[Role]) -> list[Finding]:
    hits = call.hits(p["lexicon"], call.by_role(*roles))
    return [
        Finding(h.role, h.start, h.end, "phrase.match", h.evidence_params, h.match.term.severity)
        for h in hits
    ]


#: Right before a word, the slot of a personal name in an identity statement (投保人是刘芳): the
#: ASR writes a name it does not know as whatever word sounds like it (刘芳 → 流氓), and a name
#: given to identify someone is no insult.
_NAME_SLOT = re.compile(r"(?:投保人|被保险人|受益人|本人|我)(?:是|叫)$|(?:姓名|名字)(?:是|叫)$")


def _abuse_findings(call: CallView, p: RuleParams, roles: Iterable[Role]) -> list[Finding]:
    hits = call.hits(p["lexicon"], call.by_role(*roles))
    return [
        Finding(h.role, h.start, h.end, "phrase.match", h.evidence_params, h.match.term.severity)
        for h in hits
        if not _NAME_SLOT.search(h.view.segment.text[: h.match.original_start].rstrip(" ，,"))
    ]


def abuse_agent(call: CallView, p: RuleParams) -> list[Finding]:
    """辱骂、顶撞 by the agent (standard 7.5.1 d); quoting the customer does not count."""
    return _abuse_findings(call, p, [Role.AGENT])


def abuse_customer(call: CallView, p: RuleParams) -> list[Finding]:
    """The customer insults the agent; a name in an identity statement is not an insult."""
    return _abuse_findings(call, p, [Role.CUSTOMER])


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


def _opening_window(call: CallView, p: RuleParams) -> tuple[float, float]:
    first = call.human_agent[0].segment.start
    return first, first + p["within_s"]


def _missing_opening(call: CallView, p: RuleParams, rule: str) -> list[Finding]:
    first, limit = _opening_window(call, p)
    params = {"within": p["within_s"], "first_words": _first_words(call.human_agent)}
    return [Finding(Role.AGENT, first, limit, f"{rule}.none", params)]


def missing_greeting(call: CallView, p: RuleParams) -> list[Finding]:
    """问候: the agent greets within the first ``within_s`` seconds of agent speech (seeds/003)."""
    if not call.agent:
        return []
    _first, limit = _opening_window(call, p)
    if any(h.start < limit for h in call.hits(p["lexicon"], call.human_agent)):
        return []
    return _missing_opening(call, p, "missing_greeting")


def missing_agent_id(call: CallView, p: RuleParams) -> list[Finding]:
    """自报工号: the agent states the staff number early in the call (seeds/003 二(二)2).

    Counts: 工号 as written; a match by sound (公号, 功耗, 工后) or an entry marked
    ``number_after`` (编号) only with a number right after it (工后三七五二, 编号幺二); and
    "我是3821号" or "二零四七号客服" (the number the agent goes by, said as such). The number may be spoken in Chinese numerals or already masked.
    """
    if not call.agent:
        return []
    _first, limit = _opening_window(call, p)
    for hit in call.hits(p["lexicon"], call.human_agent):
        if hit.start < limit and _states_agent_id(hit, p["number_within"]):
            return []
    if any(start < limit for start in _self_numbers(call.human_agent)):
        return []
    return _missing_opening(call, p, "missing_agent_id")


def _states_agent_id(hit: PhraseHit, number_within: int) -> bool:
    if hit.match.via == "exact" and not hit.match.term.number_after:
        return True
    return number_follows(hit, number_within)


def _self_numbers(views: list[SegmentView]) -> Iterable[float]:
    """Start times of "我是<number>号" / "<number>号客服" in agent speech."""
    for view in views:
        for m in _SELF_NUMBER.finditer(view.segment.text):
            yield view.time_of(m.start(), m.end())[0]


def missing_closing(call: CallView, p: RuleParams) -> list[Finding]:
    """结束语: a closing phrase in the last ``last_s`` seconds of agent speech (seeds/003 二(一)5)."""
    if not call.agent:
        return []
    last = max(v.segment.end for v in call.agent)
    since = last - p["last_s"]
    if any(h.end > since for h in call.hits(p["lexicon"], call.agent)):
        return []
    params = {"last": p["last_s"], "tail": call.agent[-1].segment.text[-30:]}
    return [Finding(Role.AGENT, max(since, 0.0), last, "missing_closing.none", params)]


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
    params = {
        "count": len(hits),
        "minutes": minutes,
        "rate": rate,
        "limit": p["max_per_minute"],
        "top": ", ".join(f"{t}×{n}" for t, n in counts.most_common(5)),
    }
    span = call.agent[0].segment.start, call.agent[-1].segment.end
    return [Finding(Role.AGENT, *span, "filler_words.rate", params)]


def speech_rate(call: CallView, p: RuleParams) -> list[Finding]:
    """语速 (seeds/003 三(一)1: 120–150 字/分钟) outside ``min_cpm``–``max_cpm`` ± ``tolerance_cpm``.

    Characters are what the agent said: masked personal data (``[手机号]``, ``＊``), spaces and
    punctuation do not count. Time is the agent's speaking time with the pauses between phrases
    (:attr:`CallView.agent_speaking_s`), not the wall time of the call: a rate measured over
    voiced frames alone read a 155 字/分钟 agent as 176.
    """
    seconds = call.agent_speaking_s
    if not call.agent or seconds < p["min_agent_speech_s"] - EPSILON:
        return []
    characters = sum(_spoken_characters(v) for v in call.agent)
    cpm = characters / (seconds / 60)
    low, high = p["min_cpm"] - p["tolerance_cpm"], p["max_cpm"] + p["tolerance_cpm"]
    if low - EPSILON <= cpm <= high + EPSILON:
        return []
    params = {
        "cpm": cpm,
        "characters": characters,
        "seconds": seconds,
        "side": "slow" if cpm < low else "fast",
        "low": p["min_cpm"],
        "high": p["max_cpm"],
        "tolerance": p["tolerance_cpm"],
    }
    span = call.agent[0].segment.start, call.agent[-1].segment.end
    return [Finding(Role.AGENT, *span, "speech_rate.rate", params)]


def spoken_characters(text: str) -> int:
    """Characters of ``text`` that were spoken: no mask tokens, spaces or punctuation."""
    return len(normalise(_MASK_TOKENS.sub("", text)))


def _spoken_characters(view: SegmentView) -> int:
    if _MASK_TOKENS.search(view.segment.text) is None:
        return len(view.norm.text)  # nothing masked: the normalised text is what was said
    return spoken_characters(view.segment.text)


def interruption(call: CallView, p: RuleParams) -> list[Finding]:
    """抢话: the agent starts talking while the customer is talking (overlap ≥ ``min_overlap_s``).

    Both sides are read by when they actually talk (:meth:`CallView.speaking`: their timed
    words), not by segment spans, which can run over long pauses. Where the audio features
    measured when both sides talk (``overlap_segments``: the two channels' voice activity), an
    event counts only if that measured overlap confirms it: Whisper's word times are often a
    second off at a turn's edges, the channels' energy is not.
    """
    events = []
    customer = [span for c in call.by_role(Role.CUSTOMER) for span in call.speaking(c)]
    measured = bool(call.features.talk_time_s)
    for a in call.agent:
        for start, end in call.speaking(a):
            for c_start, c_end in customer:
                if c_start < start < c_end:
                    overlap = min(end, c_end) - start
                    if measured:
                        overlap = min(overlap, _measured_overlap(call, start, start + overlap))
                    if overlap >= p["min_overlap_s"] - EPSILON:
                        events.append((a.segment, start, overlap))
                    break
    if len(events) <= p["max_count"]:
        return []
    return [
        Finding(
            Role.AGENT,
            start,
            start + overlap,
            "interruption.overlap",
            {"at": start, "overlap": overlap, "text": sa.text[:20]},
        )
        for sa, start, overlap in events
    ]


def _measured_overlap(call: CallView, start: float, end: float) -> float:
    """Seconds of ``[start, end]`` (widened by the ASR's timing slack) that the audio features
    measured as both sides talking."""
    a, b = start - WORD_TIME_SLACK_S, end + WORD_TIME_SLACK_S
    return sum(max(0.0, min(b, s.end) - max(a, s.start)) for s in call.features.overlap_segments)


def asr_unreliable(call: CallView, p: RuleParams) -> list[Finding]:
    """Segments the ASR guard marked unreliable or with confidence below ``min_confidence``."""
    findings = []
    for v in call.segments:
        s = v.segment
        low = s.confidence < p["min_confidence"] - EPSILON
        if s.unreliable:
            params: dict[str, Any] = {"reason": s.unreliable, "text": s.text[:30]}
            findings.append(Finding(s.role, s.start, s.end, "asr_unreliable.marked", params))
        elif low:
            params = {"confidence": s.confidence, "limit": p["min_confidence"], "text": s.text[:30]}
            findings.append(Finding(s.role, s.start, s.end, "asr_unreliable.confidence", params))
    return findings


#: Rules that read the recording (its length, silences, voice activity, ASR confidence): a
#: chat (网络对话) has no audio, so they do not run on it; every other rule reads text.
AUDIO_RULES: frozenset[str] = frozenset(
    {
        "ultra_short",
        "ultra_long",
        "long_silence",
        "silence_ratio",
        "speech_rate",
        "interruption",
        "asr_unreliable",
    }
)

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
    "customer_negative_end": customer_negative_end,
}
