"""Mandarin corpus: per-channel CER of the platform pipeline beside plain faster-whisper.

For each corpus call the 8 kHz μ-law stereo file goes through the transcribe stage exactly as
a worker runs it (``workers.tasks.compute_transcribe_stage`` → ``workers.pipeline.analyse_audio``:
decode → voice activity → ASR per channel with the guards → stereo layout → roles → PII
masking), and the segments it returns — the ones ``save_transcript`` stores — are joined per
role (agent = left, customer = right). In the same run ``plain_cer(call)`` of
benchmarks/zh_corpus.py transcribes the same channels with plain faster-whisper (same model,
beam 5, VAD filter, no conditioning on previous text) and gives the reference text.

Both texts then get the SAME treatment before the CER: the stored transcript is masked, so
the reference and the plain hypothesis are masked too (``mask_pii``); mask placeholders
(``[手机号]`` …) are dropped from all three texts, and so are runs of three or more digits
(Arabic or Chinese, with separators) that a per-segment mask may have left unmasked; then
``normalise`` of benchmarks/zh_corpus.py (Simplified, lower case, no punctuation, digits
spelled in Chinese). The ratio is pipeline CER / plain CER per channel.

    PYTHONPATH=. .venv/bin/python benchmarks/zh_pipeline_cer.py [--subset N | --only ID ...]
        [--built] [--json F] [--no-hotwords] [--dialogues DIR]

``--built`` keeps only the dialogues whose audio is already synthesised (nothing is built).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import zh_corpus
from qa_platform.masking import DIGIT_CHARS, SEPARATOR_CHARS, mask_pii

# benchmarks/zh_corpus.py puts its own checkout first on sys.path; this checkout's workers/
# must be the ones measured.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHANNELS = zh_corpus.CHANNELS
edit_distance = zh_corpus.edit_distance
normalise = zh_corpus.normalise

_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,8}\]")
_DIGIT_RUN = re.compile(f"[{DIGIT_CHARS}](?:[{SEPARATOR_CHARS}]*[{DIGIT_CHARS}]){{2,}}")


@dataclass(frozen=True, slots=True)
class ChannelComparison:
    speaker: str
    reference: str
    plain: str
    pipeline: str
    plain_edits: int
    pipeline_edits: int
    length: int

    @property
    def plain_cer(self) -> float:
        return self.plain_edits / self.length if self.length else 0.0

    @property
    def pipeline_cer(self) -> float:
        return self.pipeline_edits / self.length if self.length else 0.0

    @property
    def ratio(self) -> float:
        if self.plain_edits == 0:
            return 1.0 if self.pipeline_edits == 0 else float("inf")
        return self.pipeline_edits / self.plain_edits


def comparable(text: str, *, masked: bool = False) -> str:
    """Text ready for the CER: masked (unless it already is), placeholders and digit runs
    dropped, then the corpus benchmark's ``normalise``."""
    if not masked:
        text = mask_pii(text).text
    text = _PLACEHOLDER.sub("", text)
    text = _DIGIT_RUN.sub("", text)
    return normalise(text)


@lru_cache(maxsize=1)
def _settings() -> Any:
    from qa_platform.settings import Settings

    return Settings()


def pipeline_segments(
    stereo_path: Path, agent_channel: int = 0, *, settings: Any = None, transcriber: Any = None
) -> list[Any]:
    """The transcript segments the transcribe stage stores for this recording (the stage
    runs ``analyse_audio`` on a decrypted copy of the same bytes)."""
    from workers.pipeline import analyse_audio, get_transcriber

    settings = settings or _settings()
    result = analyse_audio(
        stereo_path,
        settings=settings,
        agent_channel=agent_channel,
        transcriber=transcriber or get_transcriber(settings),
    )
    return list(result.transcript.segments)


def pipeline_text(segments: list[Any], speaker: str) -> str:
    return "".join(s.text for s in segments if str(s.role) == speaker)


def compare_call(
    call: Any, *, settings: Any = None, transcriber: Any = None
) -> tuple[dict[str, ChannelComparison], list[Any]]:
    """Plain and pipeline CER per channel of one corpus call, measured side by side."""
    plain = zh_corpus.plain_cer(call)
    segments = pipeline_segments(
        call.stereo_8k, CHANNELS["agent"], settings=settings, transcriber=transcriber
    )
    out = {}
    for speaker in CHANNELS:
        ref = comparable(call.text(speaker))
        hyp_plain = comparable(plain[speaker].hypothesis)
        hyp_pipe = comparable(pipeline_text(segments, speaker), masked=True)
        out[speaker] = ChannelComparison(
            speaker,
            ref,
            hyp_plain,
            hyp_pipe,
            edit_distance(ref, hyp_plain),
            edit_distance(ref, hyp_pipe),
            len(ref),
        )
    return out, segments


def _built_ids() -> list[str]:
    from tests.helpers import zh_corpus

    mod = zh_corpus._build_module()
    root = mod.corpus_root()
    return [d["id"] for d in mod.load_dialogues() if mod.is_built(d, root)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=None, help="only the first N dialogues")
    parser.add_argument("--only", nargs="+", default=None, help="these dialogue ids")
    parser.add_argument("--built", action="store_true", help="only already synthesised calls")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--no-hotwords", action="store_true", help="pipeline without the hot-word prompt"
    )
    parser.add_argument("--dialogues", default=None, help="another dialogue directory")
    args = parser.parse_args(argv)
    from qa_platform.settings import Settings

    settings = Settings(asr_hotwords_enabled=not args.no_hotwords)

    from tests.helpers.zh_corpus import load_corpus

    ids: list[str] | None = args.only
    if args.built:
        ids = [i for i in _built_ids() if not args.only or i in args.only]
        if args.subset is not None:
            ids = ids[: args.subset]
    calls = load_corpus(ids if ids is not None else args.subset, dialogues=args.dialogues)
    t0 = time.monotonic()
    totals = {s: [0, 0, 0] for s in CHANNELS}  # plain edits, pipeline edits, length
    rows = []
    print(f"{'dialogue':<40} {'channel':<9} {'plain':>6} {'pipe':>6} {'ratio':>6}")
    for call in calls:
        res, segments = compare_call(call, settings=settings)
        for s, r in res.items():
            totals[s][0] += r.plain_edits
            totals[s][1] += r.pipeline_edits
            totals[s][2] += r.length
            print(
                f"{call.id:<40} {s:<9} {r.plain_cer:6.3f} {r.pipeline_cer:6.3f} {r.ratio:6.2f}",
                flush=True,
            )
        rows.append(
            {
                "id": call.id,
                "channels": {
                    s: {**asdict(r), "plain_cer": r.plain_cer, "pipeline_cer": r.pipeline_cer}
                    for s, r in res.items()
                },
                "segments": [s.to_dict() for s in segments],
            }
        )
    print()
    summary: dict[str, Any] = {"calls": len(rows), "seconds": round(time.monotonic() - t0, 1)}
    for s, (pe, qe, n) in totals.items():
        summary[s] = {
            "plain_cer": round(pe / n, 4) if n else 0.0,
            "pipeline_cer": round(qe / n, 4) if n else 0.0,
            "ratio": round(qe / pe, 3) if pe else None,
        }
        print(
            f"overall {s:<9} plain {summary[s]['plain_cer']:.3f}  pipeline "
            f"{summary[s]['pipeline_cer']:.3f}  ratio {summary[s]['ratio']}"
        )
    print(f"{summary['calls']} calls, {summary['seconds']:.0f} s")
    if args.json:
        args.json.write_text(
            json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
