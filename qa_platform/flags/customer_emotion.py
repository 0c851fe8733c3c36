"""``customer_negative_end``: the customer ends the call more negative than they began (情绪恶化).

Reads the stored negative-emotion scores of the customer's segments (``qa_platform.emotion``),
attached to the transcript when it is loaded. The mean score of the last third of the
customer's segments must exceed that of the first third by ``min_rise`` and reach
``min_end_score``; calls with fewer than ``min_segments`` scored customer segments are not
judged (a third of two segments says nothing).
"""

from __future__ import annotations

from qa_platform.domain.transcript import Role
from qa_platform.emotion import thirds
from qa_platform.flags.call_view import CallView
from qa_platform.flags.findings import Finding
from qa_platform.flags.rule_set import RuleParams

EPSILON = 1e-9


def customer_negative_end(call: CallView, p: RuleParams) -> list[Finding]:
    """The last third of the customer's segments is more negative than the first third."""
    if call.transcript is None:
        return []
    scored = sorted(call.transcript.customer_emotion, key=lambda s: (s.start, s.idx))
    if len(scored) < p["min_segments"]:
        return []
    first, last = thirds([s.score for s in scored])
    rise = last - first
    if rise < p["min_rise"] - EPSILON or last < p["min_end_score"] - EPSILON:
        return []
    k = max(1, len(scored) // 3)
    params = {
        "first": first,
        "last": last,
        "rise": rise,
        "count": len(scored),
        "third": k,
        "limit": p["min_rise"],
    }
    return [
        Finding(
            Role.CUSTOMER, scored[-k].start, scored[-1].end, "customer_negative_end.rise", params
        )
    ]
