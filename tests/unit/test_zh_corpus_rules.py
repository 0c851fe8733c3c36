"""The Mandarin corpus's labels against the flag rules, on the scripted words (no audio needed).

Each dialogue of ``corpus/zh/dialogues`` was written from the seed rules and labelled with the
flags it must and must not raise. Here the rules read the script as a perfect transcript (times
laid out at a steady speaking rate, the scripted pauses kept), and every text rule must agree
with every label: this is what the rules do when recognition is perfect; the same corpus through
speech and ASR is measured in ``benchmarks/zh_flags.py`` and ``tests/integration/test_zh_asr.py``.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Span, Transcript
from qa_platform.flags import evaluate

ROOT = Path(__file__).resolve().parents[2]
# Rules that read the words; timing rules (silence, rate, interruption) need the built audio.
TEXT_FLAGS = frozenset(
    {
        "missing_greeting",
        "missing_agent_id",
        "missing_identity_check",
        "missing_closing",
        "abuse_agent",
        "abuse_customer",
        "complaint_risk",
        "misleading_promise",
    }
)
CHARS_PER_S = {"agent": 2.4, "customer": 3.0}  # about 145 and 180 字/分钟


@cache
def dialogues() -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("zh_build", ROOT / "scripts/zh_corpus/build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.load_dialogues())


def scripted_transcript(dialogue: dict[str, Any]) -> Transcript:
    roles = {"agent": Role.AGENT, "customer": Role.CUSTOMER}
    at, segments = 0.0, []
    for turn in dialogue["turns"]:
        start = max(0.0, at + float(turn.get("pause_before_s", 0.5)))
        end = start + len(turn["text"]) / CHARS_PER_S[turn["speaker"]]
        segments.append(Segment(turn["speaker"], roles[turn["speaker"]], start, end, turn["text"]))
        at = end
    return Transcript(segments=segments)


def test_the_corpus_has_forty_dialogues_or_more_with_compliant_and_violating_twins() -> None:
    ds = dialogues()
    ids = {d["id"] for d in ds}
    twins = [d for d in ds if d.get("twin_of")]
    assert len(ds) >= 40
    assert twins and all(d["twin_of"] in ids for d in twins)
    every_goal_flag_labelled = set().union(*(set(d["expect"]["flags"]) for d in ds))
    assert TEXT_FLAGS <= every_goal_flag_labelled


def scripted_features(transcript: Transcript) -> AudioFeatures:
    """Duration and the gaps between turns as silences (both sides quiet)."""
    silences, reach = [], 0.0
    for seg in sorted(transcript.segments, key=lambda s: s.start):
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


@pytest.mark.parametrize("dialogue", dialogues(), ids=lambda d: d["id"])
def test_text_rules_agree_with_the_labels_on_the_script(dialogue: dict[str, Any]) -> None:
    transcript = scripted_transcript(dialogue)
    flags = evaluate(
        transcript,
        scripted_features(transcript),
        direction=dialogue["direction"],
        business_type=dialogue["business_type"],
    )
    raised = {f.type for f in flags} & TEXT_FLAGS
    must = set(dialogue["expect"]["flags"]) & TEXT_FLAGS
    must_not = set(dialogue["expect"].get("not_flags", [])) & TEXT_FLAGS
    assert must <= raised, f"missed {sorted(must - raised)}"
    assert not raised & must_not, f"raised {sorted(raised & must_not)} against the label"
