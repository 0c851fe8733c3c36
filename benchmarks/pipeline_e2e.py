"""End-to-end pipeline (the Celery stage tasks, eager) against plain faster-whisper, same run.

    .venv/bin/python benchmarks/pipeline_e2e.py [--repeat 2] [--threads 2] [--beam 5]

The demo calls (pyannote sample: stereo, mono, 8 kHz mu-law, stereo with a 40 s hold) are
ingested into a fresh embedded platform (SQLite, encrypted blobs). Then, alternating:

* baseline: plain ``faster_whisper.WhisperModel.transcribe`` of every channel the pipeline
  transcribes (``decode_audio(split_stereo=True)``), same model, language ``en``, beam, word
  timestamps, VAD filter; the segment generator consumed;
* pipeline: ``qa_platform.services.pipeline.enqueue_pending`` in the embedded default: every
  stage task (claim, decrypt to a temp file, decode, features, ASR, diarization, roles,
  masking, upsert, flags, finish) in process, with the database writes.

Before each pipeline run the calls' results and jobs are reset, so every run does all the work.
Prints per-stage exclusive time (fastest run), real-time factors and the overhead ratio
(goal <= 1.15). The best of ``--repeat`` is kept for each side (shared machine).
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

from celery.signals import task_postrun, task_prerun
from sqlalchemy import delete, update

from qa_platform.demo_audio import build_demo_calls
from qa_platform.services import pipeline as ps
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_many, read_manifest
from qa_platform.settings import Settings, set_settings
from storage.keyring import Keyring
from storage.migrate import upgrade
from storage.models import Call, CallFlag, Job
from storage.models_pipeline import CallFeatures, CallSpeaker, Transcript, TranscriptSegment
from workers import runtime
from workers.asr import resolve_model

LANGUAGE = "en"  # the sample is English


class StageClock:
    """Exclusive wall time per task name (eager tasks nest: a child's time is not the parent's)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self._stack: list[list[Any]] = []  # [name, started, child_time]
        task_prerun.connect(self._start, weak=False)
        task_postrun.connect(self._stop, weak=False)

    def _start(self, task: Any = None, **_: Any) -> None:
        self._stack.append([task.name.rsplit(".", 1)[-1], time.perf_counter(), 0.0])

    def _stop(self, **_: Any) -> None:
        name, started, children = self._stack.pop()
        took = time.perf_counter() - started
        self.totals[name] = self.totals.get(name, 0.0) + took - children
        if self._stack:
            self._stack[-1][2] += took

    def reset(self) -> dict[str, float]:
        totals, self.totals = self.totals, {}
        return totals


def make_platform(home: Path, threads: int, beam: int) -> Platform:
    settings = Settings(
        home=home,
        mode="test",
        asr_language=LANGUAGE,
        asr_cpu_threads=threads,
        asr_beam_size=beam,
        asr_model_cache=str(Path.home() / ".cache" / "qa-platform"),
    )
    settings.ensure_dirs()
    upgrade(settings.database)
    Keyring.load_or_create(settings.keyring)
    set_settings(settings)
    from workers.celery_app import dispatcher

    return Platform(settings, dispatch=dispatcher(settings))


def ingest_demo(platform: Platform, directory: Path) -> list[tuple[int, Path]]:
    manifest = build_demo_calls(directory)
    items = list(read_manifest(manifest))
    results = ingest_many(platform, items)
    return [(r.call_id, Path(r.file)) for r in results if r.call_id is not None]


def reset_results(platform: Platform) -> None:
    with platform.uow() as uow:
        for model in (TranscriptSegment, Transcript, CallSpeaker, CallFeatures, CallFlag, Job):
            uow.session.execute(delete(model))
        uow.session.execute(update(Call).values(status="ingested", error=None))
        uow.commit()


def run_pipeline(platform: Platform) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    ids = ps.enqueue_pending(platform)
    took = (time.perf_counter() - started, time.process_time() - cpu)
    states = {c["status"] for c in ps.call_states(platform, ids)}
    assert states == {"analysed"}, ps.call_states(platform, ids)
    return took


def run_baseline(model: Any, files: list[Path], beam: int) -> tuple[float, float]:
    from faster_whisper.audio import decode_audio

    started, cpu = time.perf_counter(), time.process_time()
    for path in files:
        audio = decode_audio(str(path), split_stereo=True)
        channels = audio if isinstance(audio, tuple) else (audio,)
        if (
            channels[0].shape == channels[-1].shape
            and len(channels) == 2
            and (channels[0] == channels[1]).all()
        ):
            channels = channels[:1]  # a mono file is returned twice by split_stereo
        for samples in channels:
            segments, _ = model.transcribe(
                samples,
                language=LANGUAGE,
                beam_size=beam,
                word_timestamps=True,
                vad_filter=True,
                condition_on_previous_text=False,
            )
            for _segment in segments:
                pass
    return time.perf_counter() - started, time.process_time() - cpu


def audio_seconds(platform: Platform) -> float:
    with platform.uow() as uow:
        return float(
            sum(uow.session.scalars(Call.__table__.select().with_only_columns(Call.duration_s)))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        platform = make_platform(Path(tmp) / "home", args.threads, args.beam)
        calls = ingest_demo(platform, Path(tmp) / "demo")
        files = [path for _, path in calls]
        clock = StageClock()
        transcriber = runtime.transcriber(platform.settings)
        transcriber.load()  # both sides start with a loaded model
        from faster_whisper import WhisperModel

        model = WhisperModel(
            str(resolve_model(platform.settings)),
            device="cpu",
            compute_type="int8",
            cpu_threads=args.threads,
        )
        base_runs, pipe_runs, stages = [], [], []
        for _ in range(args.repeat):
            base_runs.append(run_baseline(model, files, args.beam))
            reset_results(platform)
            pipe_runs.append(run_pipeline(platform))
            stages.append(clock.reset())
        report(platform, calls, base_runs, pipe_runs, stages, args)


def report(
    platform: Platform,
    calls: list[Any],
    base_runs: list[tuple[float, float]],
    pipe_runs: list[tuple[float, float]],
    stages: list[dict[str, float]],
    args: argparse.Namespace,
) -> None:
    seconds = audio_seconds(platform)
    best_base, best_pipe = min(base_runs), min(pipe_runs)
    cpu_base, cpu_pipe = min(c for _, c in base_runs), min(c for _, c in pipe_runs)
    fastest = stages[pipe_runs.index(best_pipe)]
    print(f"calls: {len(calls)}, audio: {seconds:.1f} s, threads {args.threads}, beam {args.beam}")
    for label, runs, best, cpu in (
        ("baseline (plain faster-whisper)", base_runs, best_base, cpu_base),
        ("pipeline (eager stage tasks)   ", pipe_runs, best_pipe, cpu_pipe),
    ):
        walls = [round(w, 2) for w, _ in runs]
        print(
            f"{label}: best wall {best[0]:.2f} s {walls}, best CPU {cpu:.2f} s, "
            f"RTF {best[0] / seconds:.3f}"
        )
    for name in ("features", "transcribe", "flags", "finish"):
        print(f"  stage {name:<10} {fastest.get(name, 0.0):7.3f} s")
    outside = best_pipe[0] - sum(fastest.values())
    print(f"  outside tasks    {outside:7.3f} s (enqueue, job rows, dispatch)")
    print(
        f"overhead ratio pipeline/baseline: wall {best_pipe[0] / best_base[0]:.3f}, "
        f"CPU {cpu_pipe / cpu_base:.3f} (goal <= 1.15)"
    )


if __name__ == "__main__":
    main()
