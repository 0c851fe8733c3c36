"""Auto-QA on the Mandarin corpus: machine item decisions against the dialogues' labels.

Each dialogue's labels say which flags must be raised (``expect.flags``) and which must not
(``expect.not_flags``), and which personal numbers are read aloud by whom (``expect.pii``).
From them every machine-judged item of the default scorecard gets an expected decision:

| item | fails when labelled | passes when labelled not |
|---|---|---|
| greeting_agent_id | missing_greeting or missing_agent_id | both |
| identity_check | missing_identity_check | it |
| closing_phrase | missing_closing | it |
| no_interrupting | interruption | it |
| speech_rate | speech_rate | it |
| no_filler_words | filler_words | it |
| abuse_customer (red line) | abuse_agent | it |
| misleading_sales (red line) | misleading_promise | it |
| leak_customer_info (red line) | a pii entry spoken by the agent | ``expect.pii`` given, none by the agent |

An item whose flags a dialogue does not label is not scored for it. The machine side is the
real chain on the scripted words (a perfect transcript, ``benchmarks/zh_rules_script.py``):
text masked as the pipeline masks it, the flag rules, the call metrics, the judges. The words
are laid out at the corpus's speaking rates (agent 2.4 字/s × ``agent_speed``, customer 3.0 字/s ×
``customer_speed``, ``extra_gap_s`` before every turn), as the TTS build does. An item the
machine leaves unjudged (a metric it could not measure) counts as a disagreement.

    PYTHONPATH=. .venv/bin/python benchmarks/autoqa_corpus.py [--dialogues corpus/zh/holdout]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Span, Transcript
from qa_platform.flags import default_rule_set, evaluate
from qa_platform.masking import mask_pii
from scoring.call_metrics import measure
from scoring.judges import AutoEvaluation, judge
from scoring.scorecard import default_scorecard

ROOT = Path(__file__).resolve().parents[1]
CHARS_PER_S = {"agent": 2.4, "customer": 3.0}  # as tests/unit/test_zh_corpus_rules.py
ITEM_FLAGS: dict[str, tuple[str, ...]] = {
    "greeting_agent_id": ("missing_greeting", "missing_agent_id"),
    "identity_check": ("missing_identity_check",),
    "closing_phrase": ("missing_closing",),
    "no_interrupting": ("interruption",),
    "speech_rate": ("speech_rate",),
    "no_filler_words": ("filler_words",),
    "abuse_customer": ("abuse_agent",),
    "misleading_sales": ("misleading_promise",),
}


@dataclass(frozen=True)
class Decision:
    dialogue: str
    item: str
    expected: bool  # True = the item passes
    machine: bool | None  # None = not judged


def load(directory: Path) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "scripts" / "zh_corpus"))
    import build

    return list(build.load_dialogues(directory))


def scripted_call(dialogue: dict[str, Any]) -> tuple[Transcript, AudioFeatures]:
    """The script as a masked transcript on the corpus's timeline, and its silences."""
    v = dialogue.get("variations") or {}
    speed = {"agent": v.get("agent_speed", 1.0), "customer": v.get("customer_speed", 1.0)}
    gap = float(v.get("extra_gap_s") or 0.0)
    roles = {"agent": Role.AGENT, "customer": Role.CUSTOMER}
    at, segments = 0.0, []
    for turn in dialogue["turns"]:
        who, pause = turn["speaker"], float(turn.get("pause_before_s", 0.5))
        start = max(0.0, at + pause + (gap if pause >= 0 else 0.0))
        end = start + len(turn["text"]) / (CHARS_PER_S[who] * speed[who])
        segments.append(Segment(who, roles[who], start, end, mask_pii(turn["text"]).text))
        at = max(at, end)
    return Transcript(segments=segments), _features(segments)


def _features(segments: list[Segment]) -> AudioFeatures:
    silences, reach = [], 0.0
    for seg in sorted(segments, key=lambda s: s.start):
        if seg.start > reach:
            silences.append(Span(reach, seg.start))
        reach = max(reach, seg.end)
    quiet = sum(s.end - s.start for s in silences)
    return AudioFeatures(
        duration_s=reach,
        silence_segments=silences,
        longest_silence_s=max((s.end - s.start for s in silences), default=0.0),
        silence_ratio=quiet / reach if reach else 0.0,
    )


def machine(dialogue: dict[str, Any]) -> AutoEvaluation:
    """The judges of the default scorecard on the dialogue's scripted words."""
    transcript, features = scripted_call(dialogue)
    rules = default_rule_set()
    kw = {"direction": dialogue["direction"], "business_type": dialogue["business_type"]}
    flags = evaluate(transcript, features, rules, **kw)
    return judge(default_scorecard(), flags, measure(transcript, features, rules, **kw))


def expected(dialogue: dict[str, Any]) -> dict[str, bool]:
    """Each labelled machine-judged item's expected decision (True = passes)."""
    raised = set(dialogue["expect"]["flags"])
    quiet = set(dialogue["expect"].get("not_flags") or ())
    out = {}
    for item, flags in ITEM_FLAGS.items():
        if raised & set(flags):
            out[item] = False
        elif set(flags) <= quiet:
            out[item] = True
    if "pii" in dialogue["expect"]:  # only dialogues that label the numbers read aloud
        pii = dialogue["expect"]["pii"] or ()
        out["leak_customer_info"] = not any(p.get("speaker") == "agent" for p in pii)
    return out


def decisions(dialogues: list[dict[str, Any]]) -> list[Decision]:
    out = []
    for d in dialogues:
        result = machine(d)
        for item, want in expected(d).items():
            got = result.item(item)
            out.append(Decision(d["id"], item, want, None if got is None else got.passed))
    return out


def summary(found: list[Decision]) -> dict[str, Any]:
    right = Counter(x.item for x in found if x.machine == x.expected)
    total = Counter(x.item for x in found)
    agreed = sum(right.values())
    return {
        "dialogues": len({x.dialogue for x in found}),
        "decisions": len(found),
        "agree": agreed,
        "agreement": round(agreed / len(found), 4) if found else None,
        "failing_decisions_expected": sum(1 for x in found if not x.expected),
        "per_item": {k: f"{right[k]}/{n}" for k, n in sorted(total.items())},
        "disagreements": [
            {"dialogue": x.dialogue, "item": x.item, "expected": x.expected, "machine": x.machine}
            for x in found
            if x.machine != x.expected
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=Path, default=ROOT / "corpus" / "zh" / "dialogues")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = summary(decisions(load(args.dialogues)))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    for x in result["disagreements"]:
        print(f"DIFF {x['dialogue']:<48} {x['item']:<20} want={x['expected']} got={x['machine']}")
    for item, score in result["per_item"].items():
        print(f"{item:<22} {score}")
    print(
        f"\n{result['agree']} of {result['decisions']} item decisions agree "
        f"({100 * (result['agreement'] or 0):.1f} %) over {result['dialogues']} dialogues; "
        f"{result['failing_decisions_expected']} expected failures"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
