"""One typed settings object, read from ``QA_*`` environment variables.

Everything has an embedded default under ``QA_HOME`` (default ``./var``): a SQLite database,
a blob directory, a keyring file and eager Celery. Production sets ``QA_DATABASE_URL``
(PostgreSQL) and ``QA_BROKER_URL`` (Redis). A bad value fails at start with a message that
names the variable. Reading settings never connects to anything.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from qa_platform.domain.errors import Invalid


class SettingsError(Invalid):
    """A configuration value is missing or malformed; the message names the variable."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None


def _parse_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name}={raw!r} is not a finite number")
    return value


def _parse_list(name: str, raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


_PARSERS: dict[type | str, Callable[[str, str], Any]] = {
    "bool": _parse_bool,
    "int": _parse_int,
    "float": _parse_float,
    "tuple[str, ...]": _parse_list,
}


def _env_name(field_name: str) -> str:
    return "QA_" + field_name.upper()


@dataclass(frozen=True)
class Settings:
    """Platform configuration. Field ``foo_bar`` is read from ``QA_FOO_BAR``."""

    home: Path = Path("var")
    mode: str = "embedded"  # embedded | production | test
    database_url: str = ""  # default: sqlite file under home
    blob_dir: str = ""  # default: home/blobs
    keyring_path: str = ""  # default: home/keyring.json
    broker_url: str = ""  # empty: Celery runs tasks eagerly in process
    result_backend: str = ""
    secret_key: str = ""  # Flask session signing; mandatory in production

    # Encrypted store
    chunk_size: int = 64 * 1024

    # Ingest limits
    max_upload_bytes: int = 512 * 1024 * 1024
    max_duration_s: float = 4 * 3600.0
    min_duration_s: float = 0.2
    max_channels: int = 8
    max_sample_rate: int = 48000
    max_decoded_samples: int = 4 * 3600 * 48000 * 2  # channels × rate × duration
    ingest_strict: bool = False  # unknown agent rejected when true

    # Web: request bodies on routes that are not uploads; proxies whose X-Forwarded-For counts
    max_request_bytes: int = 1024 * 1024
    trusted_proxies: tuple[str, ...] = ()

    # Retention (years); the rules themselves are data in qa_platform/data/retention.yaml
    retention_rules_path: str = ""

    # Speech pipeline
    asr_model: str = "base"  # a local directory, or a model size name resolved offline
    asr_model_cache: str = ""  # default: home/models
    asr_language: str = "zh"  # "auto" detects
    asr_device: str = "auto"  # auto | cpu | cuda
    asr_compute_type: str = "auto"  # auto → int8 on cpu, float16 on cuda
    asr_beam_size: int = 5
    asr_cpu_threads: int = 0  # 0: let CTranslate2 decide
    asr_batch_size: int = 8  # batched pipeline on GPU
    asr_hotwords: tuple[str, ...] = ()  # terms added to the packaged hot-word list
    asr_hotwords_enabled: bool = True  # false: no hot-word prompt at all
    pyannote_dir: str = ""  # local pyannote pipeline directory; empty → built-in fallback
    agent_channel: int = 0  # stereo: which channel is the agent unless the call says otherwise
    task_soft_time_limit_s: int = 1800
    task_hard_time_limit_s: int = 2100
    broker_visibility_timeout_s: int = 3600
    job_max_attempts: int = 3
    pipeline_version: str = "1"  # results are keyed by (call, stage, pipeline version)
    worker_max_tasks_per_child: int = 50  # recycle model processes that leak
    worker_proc_alive_timeout_s: int = 300  # model loading after fork is slow on busy nodes
    task_retry_backoff_s: float = 2.0

    # Workflow
    appeal_window_working_days: int = 3
    appeal_max_per_evaluation: int = 1
    appeal_blind_review: bool = True  # the re-reviewer does not see who scored first
    holiday_calendar_path: str = ""  # YAML: holidays, makeup_workdays
    centre_timezone: str = "Asia/Shanghai"
    report_confidence: float = 0.95  # confidence level of report intervals

    # Logging (every entry point): level and text | json
    log_level: str = "INFO"
    log_format: str = "text"

    # Language of the `qa` command's messages (zh | en); the browser has its own switch
    lang: str = "zh"

    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    # Derived locations -------------------------------------------------------------
    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'qa.sqlite3').resolve()}"

    @property
    def blobs(self) -> Path:
        return Path(self.blob_dir) if self.blob_dir else self.home / "blobs"

    @property
    def keyring(self) -> Path:
        return Path(self.keyring_path) if self.keyring_path else self.home / "keyring.json"

    @property
    def model_cache(self) -> Path:
        return Path(self.asr_model_cache) if self.asr_model_cache else self.home / "models"

    @property
    def eager(self) -> bool:
        """Celery runs tasks in process (embedded default) when no broker is configured."""
        return not self.broker_url

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    # Construction ------------------------------------------------------------------
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); ``overrides`` win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            name = _env_name(f.name)
            if name in env:
                values[f.name] = _coerce(f.type, name, env[name])
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check ranges and cross-field rules; the message names the variable at fault."""
        self._validate_numbers()
        if self.mode not in {"embedded", "production", "test"}:
            raise SettingsError(f"QA_MODE={self.mode!r} must be embedded, production or test")
        if self.is_production and not self.secret_key:
            raise SettingsError("QA_SECRET_KEY is required when QA_MODE=production")
        if self.is_production and self.database.startswith("sqlite"):
            raise SettingsError("QA_DATABASE_URL must name a PostgreSQL database in production")
        if self.database_url and "://" not in self.database_url:
            raise SettingsError(f"QA_DATABASE_URL={self.database_url!r} is not a database URL")
        if self.broker_url and not self.broker_url.startswith(("redis://", "rediss://", "amqp://")):
            raise SettingsError(f"QA_BROKER_URL={self.broker_url!r} must be redis:// or amqp://")
        if self.chunk_size < 1024 or self.chunk_size > 16 * 1024 * 1024:
            raise SettingsError("QA_CHUNK_SIZE must be between 1 KiB and 16 MiB")
        if self.max_upload_bytes <= 0:
            raise SettingsError("QA_MAX_UPLOAD_BYTES must be positive")
        if not 1024 <= self.max_request_bytes <= self.max_upload_bytes:
            raise SettingsError(
                "QA_MAX_REQUEST_BYTES must be between 1 KiB and QA_MAX_UPLOAD_BYTES"
            )
        if not 1 <= self.max_channels <= 64:
            raise SettingsError("QA_MAX_CHANNELS must be between 1 and 64")
        if not 8000 <= self.max_sample_rate <= 384000:
            raise SettingsError("QA_MAX_SAMPLE_RATE must be between 8000 and 384000")
        if self.max_decoded_samples <= 0:
            raise SettingsError("QA_MAX_DECODED_SAMPLES must be positive")
        if self.max_duration_s <= self.min_duration_s:
            raise SettingsError("QA_MAX_DURATION_S must be greater than QA_MIN_DURATION_S")
        if self.asr_device not in {"auto", "cpu", "cuda"}:
            raise SettingsError(f"QA_ASR_DEVICE={self.asr_device!r} must be auto, cpu or cuda")
        if self.lang not in {"zh", "en"}:
            raise SettingsError(f"QA_LANG={self.lang!r} must be zh or en")
        if self.log_format not in {"text", "json"}:
            raise SettingsError(f"QA_LOG_FORMAT={self.log_format!r} must be text or json")
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(
                f"QA_LOG_LEVEL={self.log_level!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL"
            )
        if self.agent_channel not in {0, 1}:
            raise SettingsError("QA_AGENT_CHANNEL must be 0 (left) or 1 (right)")
        if self.task_hard_time_limit_s <= self.task_soft_time_limit_s:
            raise SettingsError("QA_TASK_HARD_TIME_LIMIT_S must exceed QA_TASK_SOFT_TIME_LIMIT_S")
        if self.broker_visibility_timeout_s <= self.task_hard_time_limit_s:
            raise SettingsError(
                "QA_BROKER_VISIBILITY_TIMEOUT_S must exceed QA_TASK_HARD_TIME_LIMIT_S "
                "(otherwise a healthy long task is delivered twice)"
            )

    def _validate_numbers(self) -> None:
        """Every number is finite and not negative; some must be positive or a fraction."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if isinstance(value, float) and not math.isfinite(value):
                raise SettingsError(f"{_env_name(f.name)}={value!r} is not a finite number")
            if value < 0:
                raise SettingsError(f"{_env_name(f.name)}={value!r} must not be negative")
        for name in _POSITIVE:
            if getattr(self, name) <= 0:
                raise SettingsError(f"{_env_name(name)} must be positive")
        if not 0 < self.report_confidence < 1:
            raise SettingsError("QA_REPORT_CONFIDENCE must be between 0 and 1 (exclusive)")

    def ensure_dirs(self) -> None:
        """Create the embedded-default directories (called by ``qa init``, not at import)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.model_cache.mkdir(parents=True, exist_ok=True)


_POSITIVE = (
    "max_duration_s",
    "asr_beam_size",
    "asr_batch_size",
    "task_soft_time_limit_s",
    "job_max_attempts",
    "worker_max_tasks_per_child",
    "worker_proc_alive_timeout_s",
    "appeal_max_per_evaluation",
)


def _coerce(annotation: Any, name: str, raw: str) -> Any:
    key = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    if key == "Path":
        return Path(raw)
    parser = _PARSERS.get(key)
    return parser(name, raw) if parser else raw


_cached: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read once from the environment on first use."""
    global _cached
    if _cached is None:
        _cached = Settings.from_env()
    return _cached


def set_settings(settings: Settings | None) -> None:
    """Replace the process-wide settings (tests, CLI options)."""
    global _cached
    _cached = settings
