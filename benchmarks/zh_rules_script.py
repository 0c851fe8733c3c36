"""The flag rules on the scripted words of a Mandarin dialogue set (a perfect transcript).

Separates what the rules get wrong from what recognition gets wrong: the same labels through
speech and ASR are measured by ``benchmarks/zh_flags.py``. Run it on the held-out set
(``corpus/zh/holdout``, written blind to the rules) for a figure the rules were not tuned on.

    PYTHONPATH=. .venv/bin/python benchmarks/zh_rules_script.py [--dialogues corpus/zh/holdout]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.zh_flags import CallResult, precision_recall, print_table
from qa_platform.flags import evaluate
from tests.unit.test_zh_corpus_rules import TEXT_FLAGS, scripted_features, scripted_transcript

ROOT = Path(__file__).resolve().parents[1]


def _load(directory: Path) -> list[dict]:
    sys.path.insert(0, str(ROOT / "scripts" / "zh_corpus"))
    import build

    return list(build.load_dialogues(directory))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=Path, default=ROOT / "corpus" / "zh" / "dialogues")
    args = parser.parse_args(argv)
    results = []
    for d in _load(args.dialogues):
        transcript = scripted_transcript(d)
        flags = evaluate(
            transcript,
            scripted_features(transcript),
            direction=d["direction"],
            business_type=d["business_type"],
        )
        raised = sorted({f.type for f in flags} & TEXT_FLAGS)
        expect = d["expect"]
        result = CallResult(
            d["id"],
            0,
            "script",
            raised,
            sorted(set(expect["flags"]) & TEXT_FLAGS),
            sorted(set(expect.get("not_flags", [])) & TEXT_FLAGS),
            {},
        )
        results.append(result)
        missed = sorted(set(result.expected) - set(raised))
        false = sorted(set(result.not_expected) & set(raised))
        if missed or false:
            print(f"ERR {d['id']:<48} missed={missed} false={false}")
    print_table(precision_recall(results))
    right = sum(
        1
        for r in results
        if set(r.expected) <= set(r.raised) and not set(r.not_expected) & set(r.raised)
    )
    print(f"\ndialogues with every text label right: {right} of {len(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
