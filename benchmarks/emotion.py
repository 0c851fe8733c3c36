"""Customer emotion on the Mandarin corpus: snownlp against cnsenti, then text + voice.

The labels are ``corpus/zh/emotion_labels.yaml`` (every CUSTOMER turn of corpus/zh/dialogues,
negative / neutral / positive, written by reading the words). Each package scores the scripted
text of every labelled turn (a perfect transcript); a score is read as a label with the fixed
thresholds of ``qa_platform.emotion`` (negativity > 0.7 negative, < 0.3 positive). Reported:
accuracy, precision and recall of ``negative``, macro-F1 over the three labels, seconds.

With the corpus audio built (``make zh-corpus``; nothing is built here), the chosen package is
also combined with the voice arousal of the customer channel of the 8 kHz μ-law stereo file
(``workers.emotion``, turn spans of the built timeline) for the dialogues whose audio is built
(others are not synthesised here), and ``customer_negative_end`` is
evaluated per dialogue on those scores with the default thresholds (enabled for the count).

    PYTHONPATH=. .venv/bin/python benchmarks/emotion.py [--no-audio] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_platform import emotion
from qa_platform.domain.transcript import Role, Segment, Transcript

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "corpus" / "zh" / "emotion_labels.yaml"
DIALOGUES = ROOT / "corpus" / "zh" / "dialogues"


def labelled_turns() -> list[tuple[str, str, str]]:
    """(turn id, text, label) of every labelled customer turn."""
    labels = yaml.safe_load(LABELS.read_text(encoding="utf-8"))["labels"]
    out = []
    for path in sorted(DIALOGUES.glob("*.yaml")):
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, t in enumerate(d["turns"]):
            key = f"{d['id']}#{i}"
            if t["speaker"] == "customer":
                out.append((key, t["text"], labels[key]))
    missing = set(labels) - {k for k, _, _ in out}
    if missing:
        raise SystemExit(f"labels for turns that are not customer turns: {sorted(missing)}")
    return out


def metrics(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Accuracy, negative precision / recall, macro-F1 over the three labels."""
    f1s, out = [], {}
    for label in emotion.LABELS:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        n_pred = sum(p == label for p in predicted)
        n_gold = sum(g == label for g in gold)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
        if label == "negative":
            out["negative_precision"], out["negative_recall"] = precision, recall
    out["accuracy"] = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    out["macro_f1"] = sum(f1s) / len(f1s)
    return {k: round(v, 3) for k, v in out.items()}


def measure(
    scorer: Callable[[str], float], turns: Sequence[tuple[str, str, str]]
) -> dict[str, Any]:
    scorer("预热")  # model / dictionary load is not part of the per-turn time
    began = time.perf_counter()
    predicted = [emotion.text_label(scorer(text)) for _, text, _ in turns]
    seconds = time.perf_counter() - began
    result: dict[str, Any] = metrics([g for _, _, g in turns], predicted)
    result["negative_auc"] = negative_auc(
        [g for _, _, g in turns], [scorer(t) for _, t, _ in turns]
    )
    result["seconds"] = round(seconds, 3)
    result["confusion"] = confusion([g for _, _, g in turns], predicted)
    return result


def negative_auc(gold: Sequence[str], scores: Sequence[float]) -> float:
    """Threshold-free: the chance that a negative turn scores above a non-negative one (ties ½)."""
    neg = [s for g, s in zip(gold, scores, strict=True) if g == "negative"]
    rest = [s for g, s in zip(gold, scores, strict=True) if g != "negative"]
    wins = sum((a > b) + 0.5 * (a == b) for a in neg for b in rest)
    return round(wins / (len(neg) * len(rest)), 3)


def confusion(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    return {
        g: {
            p: sum(a == g and b == p for a, b in zip(gold, predicted, strict=True))
            for p in emotion.LABELS
        }
        for g in emotion.LABELS
    }


def with_audio(turns: Sequence[tuple[str, str, str]]) -> dict[str, Any] | None:
    """Text + voice on the built corpus audio, and the flag per dialogue; None if not built."""
    from qa_platform.domain.transcript import AudioFeatures
    from qa_platform.flags import default_rule_set
    from qa_platform.flags.call_view import CallView
    from qa_platform.flags.customer_emotion import customer_negative_end
    from tests.helpers import zh_corpus
    from workers.audio import decode
    from workers.emotion import customer_emotion

    mod = zh_corpus._build_module()
    dialogues = mod.load_dialogues(mod.DIALOGUE_DIR)
    root = mod.corpus_root()
    built = [d["id"] for d in dialogues if mod.is_built(d, root)]
    if not built:
        return None
    calls = zh_corpus.load_corpus(built)  # only what is built: nothing is synthesised here
    gold = {k: g for k, _, g in turns}
    params = default_rule_set().resolve("in")["customer_negative_end"]
    golds, predicted, text_only, fired = [], [], [], []
    began = time.perf_counter()
    for call in calls:
        audio = decode(call.stereo_8k)
        idx = [i for i, t in enumerate(_turns(call)) if t["speaker"] == "customer"]
        segments = [_segment(t) for t in call.timeline]
        scores = customer_emotion(audio.samples, segments, 1)
        for turn_index, s in zip(idx, scores, strict=True):
            golds.append(gold[f"{call.id}#{turn_index}"])
            predicted.append(emotion.text_label(s.score))
            text_only.append(emotion.text_label(s.text_score))
        view = CallView(
            Transcript(segments, customer_emotion=scores), AudioFeatures(call.duration_s)
        )
        if customer_negative_end(view, params):
            fired.append({"id": call.id, "emotion": call.emotion})
    return {
        "combined": metrics(golds, predicted),
        "text_only_same_turns": metrics(golds, text_only),
        "combined_confusion": confusion(golds, predicted),
        "customer_negative_end_fired": fired,
        "dialogues": [c.id for c in calls],
        "calm_or_negative_to_negative": sum(
            1
            for c in calls
            if c.emotion.get("end") == "negative" and c.emotion.get("start") == "calm"
        ),
        "seconds": round(time.perf_counter() - began, 2),
    }


LABEL_SCORE = {"negative": 1.0, "neutral": 0.5, "positive": 0.0}


def flag_on_text(turns: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """``customer_negative_end`` on the text scores of every dialogue (no audio), against the
    same rule applied to the human labels read as scores (negative 1, neutral 0.5, positive 0).
    The corpus has no customer who ends worse than they began, so the dialogues are also run
    with the customer's turns in reverse order (a complaint that ends in anger)."""
    from qa_platform.flags import default_rule_set

    params = default_rule_set().resolve("in")["customer_negative_end"]
    by_call: dict[str, list[tuple[str, str]]] = {}
    for key, text, gold in turns:
        by_call.setdefault(key.split("#")[0], []).append((text, gold))
    out: dict[str, Any] = {}
    for order in ("as_scripted", "reversed"):
        tp = fp = fn = 0
        fired = []
        for call_id, items in by_call.items():
            items = items[::-1] if order == "reversed" else items
            machine = [emotion.snownlp_negativity(t) for t, _ in items]
            human = [LABEL_SCORE[g] for _, g in items]
            got, want = _fires(machine, params), _fires(human, params)
            tp, fp, fn = tp + (got and want), fp + (got and not want), fn + (want and not got)
            if got:
                fired.append(call_id)
        out[order] = {"should_fire": tp + fn, "fired": fired, "tp": tp, "fp": fp, "fn": fn}
    return out


def _fires(scores: Sequence[float], params: Any) -> bool:
    from qa_platform.domain.transcript import AudioFeatures
    from qa_platform.flags.call_view import CallView
    from qa_platform.flags.customer_emotion import customer_negative_end

    segments = [Segment("c", Role.CUSTOMER, float(i), i + 0.5, "") for i in range(len(scores))]
    marks = [emotion.SegmentEmotion(i, i, i + 0.5, s, None, s) for i, s in enumerate(scores)]
    view = CallView(Transcript(segments, customer_emotion=marks), AudioFeatures(len(scores)))
    return bool(customer_negative_end(view, params))


def _turns(call: Any) -> list[dict[str, Any]]:
    d = yaml.safe_load((DIALOGUES / f"{call.id}.yaml").read_text(encoding="utf-8"))
    return d["turns"]


def _segment(turn: Any) -> Segment:
    role = Role.CUSTOMER if turn.speaker == "customer" else Role.AGENT
    return Segment(turn.speaker, role, turn.start, turn.end, turn.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    turns = labelled_turns()
    counts = {label: sum(g == label for _, _, g in turns) for label in emotion.LABELS}
    report: dict[str, Any] = {
        "turns": len(turns),
        "labels": counts,
        "snownlp": measure(emotion.snownlp_negativity, turns),
        "cnsenti": measure(emotion.cnsenti_negativity, turns),
    }
    unique = list({text: (key, text, gold) for key, text, gold in turns}.values())
    report["unique_texts"] = {
        "turns": len(unique),
        "snownlp": measure(emotion.snownlp_negativity, unique),
        "cnsenti": measure(emotion.cnsenti_negativity, unique),
    }
    report["flag_on_text"] = flag_on_text(turns)
    if not args.no_audio:
        report["audio"] = with_audio(turns)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
