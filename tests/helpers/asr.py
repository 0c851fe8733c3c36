"""The real faster-whisper base model, assembled from the bundled packages once per session."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

import jiwer

from qa_platform.settings import Settings
from workers.asr import WhisperTranscriber, assemble_bundled_model

_NORMALISE = jiwer.Compose(
    [
        jiwer.ToLowerCase(),
        jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(),
        jiwer.Strip(),
        jiwer.ReduceToListOfListOfWords(),
    ]
)


@lru_cache(maxsize=1)
def model_dir() -> Path:
    root = Path(tempfile.mkdtemp(prefix="qa-whisper-"))
    return assemble_bundled_model(root / "faster-whisper-base")


def asr_settings(**overrides: object) -> Settings:
    """Test settings pointing at the assembled model (no hub is ever asked)."""
    values: dict[str, object] = {"asr_model": str(model_dir()), "home": model_dir().parent}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def shared_transcriber() -> WhisperTranscriber:
    """One loaded model for the whole test session."""
    transcriber = WhisperTranscriber(asr_settings())
    transcriber.load()
    return transcriber


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after lower-casing and removing punctuation (jiwer)."""
    return float(
        jiwer.wer(
            reference, hypothesis, reference_transform=_NORMALISE, hypothesis_transform=_NORMALISE
        )
    )
