"""Auto-QA against the Mandarin corpus labels on the scripted words (benchmarks/autoqa_corpus.py):
the done-means figure (≥ 95 % of item decisions) and the dialogues that must fail an item."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from benchmarks import autoqa_corpus as bench

ROOT = Path(__file__).resolve().parents[2]


@cache
def corpus() -> dict[str, dict]:
    return {d["id"]: d for d in bench.load(ROOT / "corpus" / "zh" / "dialogues")}


def test_at_least_95_percent_of_item_decisions_agree_with_the_labels() -> None:
    found = bench.decisions(list(corpus().values()))
    summary = bench.summary(found)
    assert summary["decisions"] >= 400 and summary["failing_decisions_expected"] >= 20
    assert summary["agreement"] >= 0.95, summary["disagreements"]


def test_each_kind_of_breach_fails_its_item() -> None:
    cases = {
        "zh-003-beneficiary-no-check": "identity_check",
        "zh-016-revisit-no-agent-id": "greeting_agent_id",
        "zh-017-revisit-no-closing": "closing_phrase",
        "zh-022-product-consult-fillers": "no_filler_words",
        "zh-023-product-consult-too-fast": "speech_rate",
        "zh-024-product-consult-too-slow": "speech_rate",
        "zh-034-payment-failed-agent-abuse": "abuse_customer",
        "zh-039-sales-principal": "misleading_sales",
        "zh-044-bank-card-change-agent-reads-pii": "leak_customer_info",
        "zh-047-claim-delay-agent-interrupts": "no_interrupting",
    }
    for dialogue, item in cases.items():
        judged = bench.machine(corpus()[dialogue]).item(item)
        assert judged is not None and judged.passed is False, (dialogue, item)


def test_a_compliant_call_passes_every_machine_judged_item() -> None:
    result = bench.machine(corpus()["zh-001-beneficiary-compliant"])
    assert all(i.passed for i in result.items if i.judged) and result.total == 100.0
    assert bench.machine(
        corpus()["zh-035-payment-failed-customer-abuse"]
    ).passed  # customer's words
