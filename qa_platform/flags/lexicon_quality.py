"""Precision and recall of the phrase rules on a labelled set of utterances (词库质量评估).

Lexicon maintainers keep a CSV of short utterances (columns ``text, role, lexicon, label,
note``); each row says whether the flag family of ``lexicon`` should fire when ``role`` says
``text``. Scoring goes through :func:`qa_platform.flags.evaluate`, so role rules (the agent
explaining the complaint process is not a complaint risk), negation and quotation all count.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Transcript
from qa_platform.flags.rule_set import RuleSet

#: Which flag types a lexicon feeds.
FLAG_FAMILIES: Mapping[str, frozenset[str]] = {
    "abuse": frozenset({"abuse_agent", "abuse_customer"}),
    "complaint_risk": frozenset({"complaint_risk"}),
    "misleading_promise": frozenset({"misleading_promise"}),
}


@dataclass(frozen=True, slots=True)
class LabelledUtterance:
    text: str
    role: Role
    lexicon: str
    label: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class Score:
    """Confusion counts and the derived precision and recall of one lexicon."""

    lexicon: str
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def __str__(self) -> str:
        n = self.tp + self.fp + self.fn + self.tn
        return (
            f"{self.lexicon}: precision {self.precision:.3f} recall {self.recall:.3f} "
            f"(n={n}, tp={self.tp}, fp={self.fp}, fn={self.fn}, tn={self.tn})"
        )


def read_labelled(path: str | Path) -> list[LabelledUtterance]:
    """Read a labelled-utterance CSV; a bad row raises naming the file and line."""
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            if row.get("lexicon") not in FLAG_FAMILIES or row.get("label") not in {"0", "1"}:
                raise ValueError(f"{path}:{line}: bad lexicon or label in {row}")
            rows.append(
                LabelledUtterance(
                    row["text"], Role(row["role"]), row["lexicon"], row["label"] == "1", row["note"]
                )
            )
    return rows


def fires(utterance: LabelledUtterance, rule_set: RuleSet | None = None) -> bool:
    """Whether the lexicon's flag family fires on this one-utterance call."""
    from qa_platform.flags import evaluate  # late: flags/__init__ imports this package's siblings

    segment = Segment("S1", utterance.role, 0.0, 5.0, utterance.text)
    flags = evaluate(Transcript([segment]), AudioFeatures(duration_s=60.0), rule_set)
    return any(f.type in FLAG_FAMILIES[utterance.lexicon] for f in flags)


def score(
    utterances: Iterable[LabelledUtterance], rule_set: RuleSet | None = None
) -> tuple[dict[str, Score], list[LabelledUtterance]]:
    """Scores per lexicon and the utterances the rules got wrong."""
    counts: dict[str, list[int]] = {name: [0, 0, 0, 0] for name in FLAG_FAMILIES}
    wrong = []
    for u in utterances:
        predicted = fires(u, rule_set)
        slot = {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}
        counts[u.lexicon][slot[(predicted, u.label)]] += 1
        if predicted != u.label:
            wrong.append(u)
    return {name: Score(name, *c) for name, c in counts.items()}, wrong
