"""faster-whisper adapter: offline model resolution, device choice, OOM fallback, our types.

The engine factory is replaced only where this machine cannot run the real thing: a CUDA
device (out-of-memory behaviour) and Chinese speech with Traditional characters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa_platform.settings import Settings
from workers import asr
from workers.asr import (
    BUNDLED_SHA256,
    WhisperTranscriber,
    assemble_bundled_model,
    choose_compute_type,
    choose_device,
    load_hotwords,
    resolve_model,
)
from workers.asr_types import AsrResult
from workers.errors import ModelUnavailable


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _fake_model_dir(tmp_path: Path) -> Path:
    d = tmp_path / "faster-whisper-fake"
    d.mkdir()
    (d / "model.bin").write_bytes(b"weights")
    (d / "config.json").write_text("{}")
    return d


def test_explicit_directory_wins(tmp_path: Path, offline: None) -> None:
    d = _fake_model_dir(tmp_path)
    assert resolve_model(Settings(asr_model=str(d), home=tmp_path)) == d


def test_explicit_directory_without_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"has no model\.bin"):
        resolve_model(Settings(asr_model=str(tmp_path), home=tmp_path))


def test_cache_directory_is_used_before_anything_else(tmp_path: Path, offline: None) -> None:
    cached = tmp_path / "models" / "faster-whisper-small"
    cached.mkdir(parents=True)
    (cached / "model.bin").write_bytes(b"x")
    (cached / "config.json").write_text("{}")
    assert resolve_model(Settings(asr_model="small", home=tmp_path)) == cached


def test_unknown_size_offline_names_the_way_out(tmp_path: Path, offline: None) -> None:
    with pytest.raises(ModelUnavailable, match="QA_ASR_MODEL"):
        resolve_model(Settings(asr_model="large-v3", home=tmp_path))


@pytest.mark.worker  # the bundled model packages come with the worker extra
def test_base_is_assembled_from_the_bundled_packages(tmp_path: Path, offline: None) -> None:
    model_dir = resolve_model(Settings(asr_model="base", home=tmp_path))
    assert model_dir == tmp_path / "models" / "faster-whisper-base"
    blob = (model_dir / "model.bin").read_bytes()
    assert len(blob) == 145_217_532
    assert hashlib.sha256(blob).hexdigest() == BUNDLED_SHA256
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (model_dir / name).is_file()
    assert not [p for p in model_dir.iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.worker  # the bundled model packages come with the worker extra
def test_checksum_mismatch_removes_the_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "faster-whisper-base"
    with pytest.raises(ModelUnavailable, match=r"damaged.*expected 145217532 bytes"):
        assemble_bundled_model(target, expected_sha256="0" * 64)
    assert not (target / "model.bin").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".model.bin")]


def test_device_and_compute_type_auto() -> None:
    assert choose_device("auto", 0) == "cpu"
    assert choose_device("auto", 1) == "cuda"
    assert choose_device("cpu", 2) == "cpu"
    assert choose_compute_type("auto", "cpu") == "int8"
    assert choose_compute_type("auto", "cuda") == "float16"
    assert choose_compute_type("int8_float16", "cuda") == "int8_float16"


def test_hotwords_hold_insurance_terms_and_settings_extras() -> None:
    words = load_hotwords(("犹豫期", "平安福"))
    for term in ("保单", "理赔", "退保", "犹豫期", "被保险人", "工号", "平安福"):
        assert term in words
    assert len(words) == len(set(words))


# --- fake engines: a CUDA device and Traditional-Chinese output are not available here ------
@dataclass
class _W:
    word: str
    start: float
    end: float
    probability: float


@dataclass
class _S:
    text: str
    start: float = 0.0
    end: float = 1.0
    avg_logprob: float = -0.2
    no_speech_prob: float = 0.01
    compression_ratio: float = 1.2
    words: list[_W] = field(default_factory=list)


@dataclass
class _Info:
    language: str = "zh"
    language_probability: float = 0.97


class _FakeEngine:
    """Behaves like faster-whisper; on "cuda" a batch larger than ``cuda_fits`` runs out of memory."""

    def __init__(self, device: str, batch: int, cuda_fits: int, calls: list) -> None:
        self.device, self.batch, self.cuda_fits, self.calls = device, batch, cuda_fits, calls

    def transcribe(self, audio: np.ndarray, **kwargs: Any) -> tuple[Any, _Info]:
        self.calls.append((self.device, self.batch, kwargs))
        if self.device == "cuda" and self.batch > self.cuda_fits:
            raise RuntimeError("CUDA failed with error out of memory")
        segment = _S(
            "保單號碼已經辦理", words=[_W("保單", 0.0, 0.4, 0.9), _W("號碼", 0.4, 0.8, 0.8)]
        )
        return (s for s in [segment]), _Info()


def _transcriber(
    tmp_path: Path, cuda_devices: int, calls: list, batch: int = 8, cuda_fits: int = 64
) -> WhisperTranscriber:
    def factory(model_dir: Path, device: str, compute_type: str, batch_size: int) -> _FakeEngine:
        return _FakeEngine(device, batch_size, cuda_fits, calls)

    settings = Settings(home=tmp_path, asr_batch_size=batch, asr_beam_size=3)
    return WhisperTranscriber(
        settings,
        model_dir=_fake_model_dir(tmp_path),
        engine_factory=factory,
        cuda_devices=cuda_devices,
    )


def test_cuda_oom_halves_the_batch_then_succeeds(tmp_path: Path) -> None:
    calls: list = []
    result = _transcriber(tmp_path, 1, calls, batch=8, cuda_fits=4).transcribe(
        np.zeros(16000, np.float32), "zh"
    )
    assert [(d, b) for d, b, _ in calls] == [("cuda", 8), ("cuda", 4)]
    assert (result.device, result.batch_size, result.compute_type) == ("cuda", 4, "float16")
    assert result.notes == ("cuda out of memory at batch 8",)


def test_cuda_oom_at_every_batch_falls_back_to_cpu_int8(tmp_path: Path) -> None:
    calls: list = []
    result = _transcriber(tmp_path, 1, calls, batch=2, cuda_fits=0).transcribe(
        np.zeros(16000, np.float32), "zh"
    )
    assert [(d, b) for d, b, _ in calls] == [("cuda", 2), ("cuda", 1), ("cpu", 1)]
    assert (result.device, result.compute_type) == ("cpu", "int8")
    assert result.segments  # the call still got its transcript


def test_other_runtime_errors_are_not_swallowed(tmp_path: Path) -> None:
    def factory(*_: Any) -> Any:
        class Broken:
            def transcribe(self, audio: np.ndarray, **kwargs: Any) -> Any:
                raise RuntimeError("unsupported model file")

        return Broken()

    t = WhisperTranscriber(
        Settings(home=tmp_path),
        model_dir=_fake_model_dir(tmp_path),
        engine_factory=factory,
        cuda_devices=1,
    )
    with pytest.raises(RuntimeError, match="unsupported model file"):
        t.transcribe(np.zeros(16000, np.float32), "zh")


def test_cpu_path_decodes_with_the_configured_options(tmp_path: Path) -> None:
    calls: list = []
    result = _transcriber(tmp_path, 0, calls).transcribe(np.zeros(16000, np.float32), "auto")
    device, batch, kwargs = calls[0]
    assert (device, batch) == ("cpu", 1)
    assert kwargs["language"] is None  # auto → detect
    assert kwargs["word_timestamps"] and kwargs["vad_filter"]
    assert kwargs["condition_on_previous_text"] is False
    assert kwargs["beam_size"] == 3
    assert "理赔" in kwargs["hotwords"] and "batch_size" not in kwargs
    assert isinstance(result, AsrResult)


def test_output_is_simplified_chinese_in_text_and_words(tmp_path: Path) -> None:
    result = _transcriber(tmp_path, 0, []).transcribe(np.zeros(16000, np.float32), "zh")
    seg = result.segments[0]
    assert seg.text == "保单号码已经办理"
    assert [w.text for w in seg.words] == ["保单", "号码"]
    assert (seg.avg_logprob, seg.no_speech_prob, seg.compression_ratio) == (-0.2, 0.01, 1.2)
    assert result.language == "zh"


def test_chinese_hotwords_are_not_sent_for_english(tmp_path: Path) -> None:
    calls: list = []
    _transcriber(tmp_path, 0, calls).transcribe(np.zeros(16000, np.float32), "en")
    assert calls[0][2]["hotwords"] is None


def test_stereo_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1-D mono"):
        _transcriber(tmp_path, 0, []).transcribe(np.zeros((2, 16000), np.float32), "zh")


def test_model_version_comes_from_the_weights(tmp_path: Path) -> None:
    d = _fake_model_dir(tmp_path)
    assert asr.model_version(d) == hashlib.sha256(b"weights").hexdigest()[:16]


@pytest.mark.worker  # ctranslate2 comes with the worker extra
def test_sampling_is_seeded_before_every_decode(tmp_path: Path, monkeypatch) -> None:
    """The temperature fallback samples: without a seed the same call could get a different
    transcript on a rerun. The seed is set right before each decode, the same every time."""
    import ctranslate2

    from workers import asr

    events: list = []
    monkeypatch.setattr(ctranslate2, "set_random_seed", lambda seed: events.append(("seed", seed)))
    calls: list = []
    t = _transcriber(tmp_path, 0, calls)
    original = _FakeEngine.transcribe

    def recording(self, audio, **kwargs):
        events.append(("decode", None))
        return original(self, audio, **kwargs)

    monkeypatch.setattr(_FakeEngine, "transcribe", recording)
    t.transcribe(np.zeros(16000, np.float32), "zh")
    t.transcribe(np.zeros(16000, np.float32), "zh")
    assert events == [("seed", asr.SAMPLING_SEED), ("decode", None)] * 2


def test_hot_words_go_to_the_engine_unless_asked_not_to(tmp_path: Path) -> None:
    calls: list = []
    t = _transcriber(tmp_path, 0, calls)
    t.transcribe(np.zeros(16000, np.float32), "zh")
    t.transcribe(np.zeros(16000, np.float32), "zh", hotwords=False)
    first, second = calls[0][2]["hotwords"], calls[1][2]["hotwords"]
    assert "工号" in first and "受益人" in first and second is None
    assert t.prompts_hotwords("zh")
    off = Settings(home=tmp_path, asr_hotwords_enabled=False)
    assert not WhisperTranscriber(off, model_dir=t.model_dir).prompts_hotwords("zh")
