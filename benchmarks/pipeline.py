"""Speech pipeline wall time against plain faster-whisper on the same audio (engines part).

    .venv/bin/python benchmarks/pipeline.py [--repeat 3] [--threads 2] [--beam 5]

Demo calls are built from the pyannote sample (stereo: one speaker per channel; mono). For
each call, in the same run and with the same loaded model and decoding options:

* baseline: plain ``WhisperModel.transcribe`` of every channel the pipeline transcribes
  (word timestamps, VAD filter, beam, language ``en``), the segment generator consumed;
* pipeline: ``workers.pipeline.analyse_audio`` (decode, features, guards, ASR, diarization,
  roles, masking).

Prints per-stage times (of the fastest run), real-time factors, the overhead ratio (goal ≤ 1.15) and the
mono fallback diarization real-time factor (goal ≤ 0.05). Runs alternate to share noise and
the best of ``--repeat`` is kept for each side (the machine is shared; the minimum is the
least disturbed measurement).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa_platform.demo_audio import read_mono, read_rttm, sample_files, split_by_speaker, write_audio
from qa_platform.settings import Settings
from workers.asr import WhisperTranscriber, resolve_model
from workers.audio import decode
from workers.diarization import ClusteringDiarizer
from workers.pipeline import analyse_audio

LANGUAGE = "en"  # the sample is English


def build_calls(folder: Path) -> dict[str, Path]:
    files = sample_files()
    mono = read_mono(files.wav)
    stereo = split_by_speaker(mono, read_rttm(files.rttm))
    return {
        "stereo 16 kHz": write_audio(folder / "stereo.wav", stereo, 16000),
        "stereo 8 kHz μ-law": write_audio(
            folder / "mulaw.wav", stereo, 16000, "pcm_mulaw", out_rate=8000
        ),
        "mono 16 kHz": write_audio(folder / "mono.wav", mono[None, :], 16000),
    }


def plain_whisper(model: Any, path: Path, beam: int) -> tuple[float, float]:
    """(wall s, CPU s) of plain faster-whisper on each channel (decode excluded: the floor)."""
    audio = decode(path)
    started, cpu = time.perf_counter(), time.process_time()
    for channel in audio.samples:
        segments, _ = model.transcribe(
            channel,
            language=LANGUAGE,
            beam_size=beam,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        for _ in segments:
            pass
    return time.perf_counter() - started, time.process_time() - cpu


def run_pipeline(
    path: Path, settings: Settings, transcriber: WhisperTranscriber
) -> tuple[float, float, dict[str, float]]:
    """(wall s, CPU s, per-stage wall s) of ``analyse_audio``."""
    started, cpu = time.perf_counter(), time.process_time()
    result = analyse_audio(
        path,
        settings=settings,
        language=LANGUAGE,
        transcriber=transcriber,
        diarizer=ClusteringDiarizer(),
    )
    return time.perf_counter() - started, time.process_time() - cpu, result.timings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam", type=int, default=5)
    args = ap.parse_args()
    from faster_whisper import WhisperModel

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            home=Path(tmp),
            asr_cpu_threads=args.threads,
            asr_beam_size=args.beam,
            asr_device="cpu",
            asr_language=LANGUAGE,
        )
        model_dir = resolve_model(settings)
        model = WhisperModel(
            str(model_dir), device="cpu", compute_type="int8", cpu_threads=args.threads
        )
        transcriber = WhisperTranscriber(
            settings, model_dir=model_dir, engine_factory=lambda *_: model
        )
        calls = build_calls(Path(tmp))
        report(calls, settings, transcriber, model, args)


def report(
    calls: dict[str, Path],
    settings: Settings,
    transcriber: WhisperTranscriber,
    model: Any,
    args: argparse.Namespace,
) -> None:
    first = next(iter(calls.values()))
    run_pipeline(first, settings, transcriber)  # warm-up: imports, model caches
    plain_whisper(model, first, args.beam)
    print(
        f"faster-whisper base, cpu int8, {args.threads} threads, beam {args.beam}, "
        f"best of {args.repeat}\n"
    )
    print(
        "| call | audio s | plain whisper wall s (CPU s) | pipeline wall s (CPU s) | pipeline RTF "
        "| wall ratio | CPU ratio | non-ASR stages s | stages of the best run (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    totals = {"plain": 0.0, "pipe": 0.0, "plain_cpu": 0.0, "pipe_cpu": 0.0}
    for name, path in calls.items():
        duration = decode(path).duration_s
        plain, pipe = [], []
        for _ in range(args.repeat):
            plain.append(plain_whisper(model, path, args.beam))
            pipe.append(run_pipeline(path, settings, transcriber))
        p_wall, p_cpu = min(w for w, _ in plain), min(c for _, c in plain)
        q_wall, q_cpu = min(w for w, _, _ in pipe), min(c for _, c, _ in pipe)
        best = min(pipe, key=lambda run: run[0])[2]
        extra = sum(v for k, v in best.items() if k != "asr")
        for key, value in (
            ("plain", p_wall),
            ("pipe", q_wall),
            ("plain_cpu", p_cpu),
            ("pipe_cpu", q_cpu),
        ):
            totals[key] += value
        stage_text = ", ".join(f"{k} {v:.3f}" for k, v in best.items())
        print(
            f"| {name} | {duration:.1f} | {p_wall:.2f} ({p_cpu:.2f}) | {q_wall:.2f} ({q_cpu:.2f}) "
            f"| {q_wall / duration:.3f} | {q_wall / p_wall:.3f} | {q_cpu / p_cpu:.3f} | {extra:.3f} "
            f"| {stage_text} |"
        )
    print(
        f"\nall calls: wall ratio {totals['pipe'] / totals['plain']:.3f}, "
        f"CPU ratio {totals['pipe_cpu'] / totals['plain_cpu']:.3f} (goal ≤ 1.15)"
    )
    print_fallback_rtf(decode(calls["mono 16 kHz"]).samples[0], args.repeat)


def print_fallback_rtf(mono: Any, repeat: int) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        ClusteringDiarizer().diarize(mono)
        times.append(time.perf_counter() - started)
    seconds = mono.size / 16000
    print(
        f"mono fallback diarization: {min(times):.3f} s for {seconds:.0f} s "
        f"→ RTF {min(times) / seconds:.4f} (goal ≤ 0.05)"
    )


if __name__ == "__main__":
    main()
