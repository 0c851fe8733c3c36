"""The identity check before an account change or a disclosure (双因素验证, seeds/003 二(一)2)."""

from __future__ import annotations

from collections.abc import Sequence

from qa_platform.domain.transcript import Role
from qa_platform.flags.call_view import CallView, PhraseHit, SegmentView
from qa_platform.flags.findings import Finding, number_follows
from qa_platform.flags.rule_set import RuleParams
from qa_platform.lexicon.matching import SENTENCE_BREAKS


def missing_identity_check(call: CallView, p: RuleParams) -> list[Finding]:
    """双因素验证 (seeds/003 二(一)2): a request that changes the account or reveals policy data.

    A customer request of ``request_lexicon`` (受益人变更, 退保, 改地址 …) that the agent acts on
    (``action_lexicon``: 帮您办理, 为您查询 …, or reading out ``policy_lexicon`` details) needs
    ``min_factors`` different identity factors before the agent acts: asked by the agent
    (``identity_lexicon``) or stated by the customer (``given_lexicon``). A call
    without such a request needs no check; a request the agent does not act on (refuses,
    redirects to a branch) needs none either. Once the customer is verified, the call is.
    """
    customer = call.by_role(Role.CUSTOMER, Role.UNKNOWN)
    requests = sorted(
        [
            *call.hits(p["request_lexicon"], customer),
            *_composed_requests(call, customer, p),
            *_acknowledged_requests(call, customer, p),
        ],
        key=lambda h: h.start,
    )
    if not requests or not call.agent:
        return []
    checks = list(call.hits(p["identity_lexicon"], call.agent))
    actions = sorted(
        (
            a
            for a in [
                *call.hits(p["action_lexicon"], call.agent),
                *call.hits(p["policy_lexicon"], call.agent),
            ]
            if not _announced_before_check(a, checks)
        ),
        key=lambda h: h.start,
    )
    asked = [
        (h.start, h.match.term.factor) for h in checks if h.match.term.factor not in ("", "generic")
    ] + _factors_given(call, customer, p)
    for request in requests:
        action = next((a for a in actions if a.start >= request.start), None)
        if action is None:
            continue  # not acted on (yet): no data revealed, nothing changed
        factors = sorted({factor for at, factor in asked if at < action.start})
        if len(factors) >= p["min_factors"]:
            return []
        return [_unverified(request, action, factors, p["min_factors"])]
    return []


def _announced_before_check(action: PhraseHit, checks: Sequence[PhraseHit]) -> bool:
    """ "我来帮您办理。变更扣款账户需要先核实身份，请问…": an action word followed, in the same
    turn, by the identity check is the agent announcing what comes after the check, not acting."""
    return any(c.view is action.view and c.start > action.start for c in checks)


def _factors_given(
    call: CallView, views: Sequence[SegmentView], p: RuleParams
) -> list[tuple[float, str]]:
    """(time, factor) of the identity factors the customer states ("身份证后四位是零六一二",
    "投保人是刘芳"): the answer side of the two-factor check. A number factor counts only with
    the number said right after it."""
    return [
        (h.start, h.match.term.factor)
        for h in call.hits(p["given_lexicon"], views)
        if h.match.term.factor
        and (not h.match.term.number_after or number_follows(h, p["given_number_within"]))
    ]


def _composed_requests(
    call: CallView, views: Sequence[SegmentView], p: RuleParams
) -> list[PhraseHit]:
    """Requests said in the customer's own words: an object (地址, 受益人, 保单 …) and a verb
    that changes or asks for it (改, 变更, 查 …) within ``request_window`` characters of one
    segment, with no sentence break between them ("把保单上的通讯地址和电话改一下")."""
    objects = list(call.hits(p["request_object_lexicon"], views))
    verbs = list(call.hits(p["request_verb_lexicon"], views))
    found = []
    for obj in objects:
        text = obj.view.segment.text
        for verb in verbs:
            if verb.view is not obj.view:
                continue
            a, b = sorted((obj.match.original_start, verb.match.original_start))
            near = b - a <= p["request_window"]
            if near and not any(ch in SENTENCE_BREAKS for ch in text[a:b]):
                found.append(obj)
                break
    return found


def _acknowledged_requests(
    call: CallView, views: Sequence[SegmentView], p: RuleParams
) -> list[PhraseHit]:
    """A request whose verb was lost (misheard: "地址和电话展一下"): the customer names an object
    (地址, 受益人 …) and the agent's very next turn takes it on ("我这边帮您改", 帮您办理), which
    says what the customer asked for."""
    agent_turns = sorted(call.agent, key=lambda v: v.segment.start)
    found = []
    for obj in call.hits(p["request_object_lexicon"], views):
        said = obj.view.segment
        reply = next((v for v in agent_turns if v.segment.start >= said.end - 0.5), None)
        if reply is not None and any(
            a.view is reply for a in call.hits(p["action_lexicon"], [reply])
        ):
            found.append(obj)
    return found


def _unverified(
    request: PhraseHit, action: PhraseHit, factors: list[str], required: int
) -> Finding:
    params = {
        "request": request.match.quote,
        "category": request.match.term.category or "policy_info",
        "request_at": request.start,
        "action": action.match.quote,
        "action_at": action.start,
        "count": len(factors),
        "factors": factors,
        "required": required,
    }
    return Finding(Role.AGENT, action.start, action.end, "missing_identity_check.request", params)
