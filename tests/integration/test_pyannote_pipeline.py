"""The pyannote.audio 4 path end to end with tiny models the test builds itself.

Real weights are a user's to supply; these random ones prove that a local pipeline directory
(config.yaml + segmentation/embedding checkpoints + PLDA) loads offline, runs on our samples and
comes back as our Turn list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.audio import load_sample_mono
from tests.helpers.pyannote_tiny import build_tiny_pipeline
from workers.diarization import PyannoteDiarizer, Turn, make_mono_diarizer


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("pyannote") / "tiny-diarization")


def test_local_pipeline_directory_runs_end_to_end(
    pipeline_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    diarizer = make_mono_diarizer(str(pipeline_dir))
    assert isinstance(diarizer, PyannoteDiarizer)
    turns = diarizer.diarize(load_sample_mono())
    assert turns and all(isinstance(t, Turn) for t in turns)
    assert all(0.0 <= t.start < t.end <= 30.5 for t in turns)
    assert all(isinstance(t.speaker, str) and t.speaker for t in turns)
    assert turns == sorted(turns, key=lambda t: (t.start, t.speaker))


def test_pipeline_loads_once(pipeline_dir: Path) -> None:
    diarizer = PyannoteDiarizer(pipeline_dir)
    assert diarizer.load() is diarizer.load()
