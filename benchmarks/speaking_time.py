"""The agent's speaking time (讲话时长) that 语速 is measured over, against the built timeline.

For every built corpus call (``make zh-corpus``): the agent channel's voice activity as
``workers.features`` measures it, with pauses up to G seconds bridged, divided by the agent's
turn time of the reference timeline (what the corpus labels' 字/分钟 are computed over).
``G = 0`` is voiced frames alone (the measure before 2026-12-04); the platform bridges 1.0 s
(``workers.features.PHRASE_PAUSE_S``).

    PYTHONPATH=. .venv/bin/python benchmarks/speaking_time.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.helpers.zh_corpus import corpus_root
from workers import features
from workers.audio import decode

GAPS = (0.0, 0.3, 0.5, 0.8, 1.0, 1.5)


def main() -> None:
    rows = []
    for ref in sorted(Path(corpus_root()).glob("*/reference.json")):
        built = json.loads(ref.read_text(encoding="utf-8"))
        measures = built["measures"]
        audio = decode(ref.parent / built["files"]["stereo_8k"])
        act = features.voice_activity(audio.samples[0])
        rows.append((built["id"], measures, [act.speaking_time_s(g) for g in GAPS]))
    print(f"{len(rows)} built calls")
    print("| bridged pause ≤ s | median ratio to turn time | min | max |")
    print("|---|---|---|---|")
    for i, gap in enumerate(GAPS):
        ratios = np.array([r[2][i] / r[1]["agent_speech_s"] for r in rows])
        print(f"| {gap} | {np.median(ratios):.3f} | {ratios.min():.3f} | {ratios.max():.3f} |")
    print("\n| call | 字/分钟 over turn time | over voiced frames | over speaking time (1.0 s) |")
    print("|---|---|---|---|")
    one = GAPS.index(1.0)
    for call_id, m, secs in rows:
        chars = m["agent_characters"]
        print(
            f"| {call_id} | {m['agent_cpm']:.1f} | {chars / (secs[0] / 60):.1f} "
            f"| {chars / (secs[one] / 60):.1f} |"
        )


if __name__ == "__main__":
    main()
