"""One typed settings object, read from ``QA_*`` environment variables.

Everything has an embedded default under ``QA_HOME`` (default ``./var``): a SQLite database,
a blob directory, a keyring file and eager Celery. Production sets ``QA_DATABASE_URL``
(PostgreSQL) and ``QA_BROKER_URL`` (RabbitMQ or Redis). A bad value fails at start with a message that
names the variable. Reading settings never connects to anything.
"""

from __future__ import annotations

import base64
import math
import os
import re
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
    # Auto-QA: an item whose machine–human kappa is below this is marked weak (docs/autoqa.md)
    autoqa_kappa_threshold: float = 0.6

    # Logging (every entry point): level and text | json
    log_level: str = "INFO"
    log_format: str = "text"

    # Language of the `qa` command's messages (zh | en); the browser has its own switch
    lang: str = "zh"

    # Blob store (docs/deploy.md "Storage"): file://DIR (default: QA_BLOB_DIR or home/blobs) or
    # s3://bucket/prefix on an S3-compatible server (AWS, MinIO, Ceph RGW, SeaweedFS).
    blob_url: str = ""
    blob_fallback_url: str = ""  # while migrating: blobs not yet in blob_url are read here
    s3_endpoint: str = ""  # http(s)://host:port; empty: the provider's default for the region
    s3_access_key: str = ""
    s3_secret_key: str = field(default="", repr=False)
    s3_region: str = "us-east-1"
    s3_part_size: int = 16 * 1024 * 1024  # multipart upload above one part
    s3_max_attempts: int = 5  # per request, with exponential backoff and jitter
    s3_timeout_s: float = 30.0

    # Keyring source (docs/deploy.md "Keys"): file://PATH (default: QA_KEYRING_PATH) or db://
    # (KEKs sealed in the database under a master key each node is given).
    keyring_url: str = ""
    master_key: str = field(default="", repr=False)  # base64 of 32 bytes
    master_key_file: str = ""

    # Broker (docs/deploy.md "Broker"): RabbitMQ deliveries of one message before it is
    # dead-lettered (quorum queues' x-delivery-limit; above QA_JOB_MAX_ATTEMPTS, which the
    # database enforces first); whether a Redis broker without persistence refuses to start.
    broker_delivery_limit: int = 10
    broker_require_persistence: bool = True
    # RabbitMQ's ``consumer_timeout`` as the server is configured (rabbitmq.conf; seconds, 0 =
    # off). Before RabbitMQ 3.12 nothing else can raise it, and a task running longer gets its
    # channel closed and runs again; ``qa worker`` checks it against the hard time limit.
    broker_consumer_timeout_s: int = 1800

    # Observability (docs/deploy.md "Metrics"): /metrics needs this bearer token; without one
    # it answers only requests from the loopback address.
    metrics_token: str = field(default="", repr=False)
    # Complaint alerts (投诉预警, qa_platform.services.alerts): e-mail through SMTP when a host is
    # set, else a log line; the supervisors' web list shows every alert either way.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_from: str = "qa-platform@localhost"
    complaint_alert_to: tuple[str, ...] = ()  # e-mail addresses of the supervisors on duty

    extra: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    # Derived locations -------------------------------------------------------------
    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'qa.sqlite3').resolve()}"

    @property
    def blobs(self) -> Path:
        """The local blob directory (``file://`` in ``QA_BLOB_URL``, ``QA_BLOB_DIR``, home)."""
        if self.blob_url.startswith("file://"):
            return Path(self.blob_url.removeprefix("file://"))
        return Path(self.blob_dir) if self.blob_dir else self.home / "blobs"

    @property
    def keyring(self) -> Path:
        """The keyring file (``QA_KEYRING_PATH``, or ``file://`` in ``QA_KEYRING_URL``)."""
        if self.keyring_url.startswith("file://"):
            return Path(self.keyring_url.removeprefix("file://"))
        return Path(self.keyring_path) if self.keyring_path else self.home / "keyring.json"

    @property
    def keyring_in_database(self) -> bool:
        return self.keyring_url == "db://"

    @property
    def blob_location(self) -> BlobUrl:
        """Where blobs live: ``QA_BLOB_URL`` parsed, or the local directory by default."""
        return (
            parse_blob_url("QA_BLOB_URL", self.blob_url)
            if self.blob_url
            else BlobUrl("file", path=self.blobs)
        )

    @property
    def blob_fallback(self) -> BlobUrl | None:
        url = self.blob_fallback_url
        return parse_blob_url("QA_BLOB_FALLBACK_URL", url) if url else None

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
        if not -1.0 <= self.autoqa_kappa_threshold <= 1.0:
            raise SettingsError("QA_AUTOQA_KAPPA_THRESHOLD must be within -1..1")
        self._validate_blob_store()
        self._validate_keyring_source()
        self._validate_broker()
        self._validate_alerts()

    def _validate_alerts(self) -> None:
        """SMTP alerts: a port in range and recipients when a host is set."""
        if not 1 <= self.smtp_port <= 65535:
            raise SettingsError(f"QA_SMTP_PORT={self.smtp_port} must be between 1 and 65535")
        if self.smtp_host and not self.complaint_alert_to:
            raise SettingsError("QA_COMPLAINT_ALERT_TO is required when QA_SMTP_HOST is set")
        bad = [a for a in self.complaint_alert_to if "@" not in a]
        if bad:
            raise SettingsError(f"QA_COMPLAINT_ALERT_TO: {bad[0]!r} is not an e-mail address")

    def _validate_blob_store(self) -> None:
        """The blob URLs parse; S3 credentials are required only when S3 is chosen."""
        places = [self.blob_location, self.blob_fallback]
        if not any(p is not None and p.kind == "s3" for p in places):
            return
        for name in ("s3_access_key", "s3_secret_key"):
            if not getattr(self, name):
                raise SettingsError(f"{_env_name(name)} is required when the blob store is s3://")
        if self.s3_endpoint and not _ENDPOINT.match(self.s3_endpoint):
            raise SettingsError(
                f"QA_S3_ENDPOINT={self.s3_endpoint!r} must be http(s)://host[:port] (no path)"
            )
        if not _REGION.match(self.s3_region):
            raise SettingsError(f"QA_S3_REGION={self.s3_region!r} is not a region name")
        if not 5 * MIB <= self.s3_part_size <= 5 * 1024 * MIB:
            raise SettingsError("QA_S3_PART_SIZE must be between 5 MiB and 5 GiB (S3's limits)")
        if not 1 <= self.s3_max_attempts <= 20:
            raise SettingsError("QA_S3_MAX_ATTEMPTS must be between 1 and 20")
        if not 0 < self.s3_timeout_s <= 600:
            raise SettingsError("QA_S3_TIMEOUT_S must be above 0 and at most 600 seconds")

    def _validate_broker(self) -> None:
        """The broker's delivery limit leaves the database's attempt limit the first word."""
        if not self.job_max_attempts < self.broker_delivery_limit <= 1000:
            raise SettingsError(
                "QA_BROKER_DELIVERY_LIMIT must exceed QA_JOB_MAX_ATTEMPTS and be at most 1000"
            )
        if not (
            self.broker_consumer_timeout_s == 0 or 60 <= self.broker_consumer_timeout_s <= 2_000_000
        ):
            raise SettingsError(
                "QA_BROKER_CONSUMER_TIMEOUT_S must be 0 (off) or between 60 and 2000000 seconds"
            )
        if self.metrics_token and len(self.metrics_token) < 16:
            raise SettingsError("QA_METRICS_TOKEN must be at least 16 characters")

    @property
    def broker_kind(self) -> str:
        """``amqp`` (RabbitMQ), ``redis`` or ``""`` (eager, no broker)."""
        if self.broker_url.startswith("amqp://"):
            return "amqp"
        return "redis" if self.broker_url else ""

    def _validate_keyring_source(self) -> None:
        url = self.keyring_url
        if url and url != "db://" and not (url.startswith("file://") and len(url) > 7):
            raise SettingsError(f"QA_KEYRING_URL={url!r} must be file://PATH or db://")
        if not self.keyring_in_database:
            return
        if bool(self.master_key) == bool(self.master_key_file):
            raise SettingsError(
                "QA_KEYRING_URL=db:// needs exactly one of QA_MASTER_KEY or QA_MASTER_KEY_FILE"
            )
        if self.master_key:
            decode_master_key("QA_MASTER_KEY", self.master_key)

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
        if self.blob_location.kind == "file":
            self.blobs.mkdir(parents=True, exist_ok=True)
        self.model_cache.mkdir(parents=True, exist_ok=True)


MIB = 1024 * 1024
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
_ENDPOINT = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$")
_REGION = re.compile(r"^[a-z0-9-]{1,32}$")


@dataclass(frozen=True)
class BlobUrl:
    """A parsed blob-store URL: ``file`` with a directory, or ``s3`` with bucket and prefix."""

    kind: str  # file | s3
    path: Path | None = None
    bucket: str = ""
    prefix: str = ""

    def __str__(self) -> str:
        if self.kind == "file":
            return f"file://{self.path}"
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def parse_blob_url(name: str, url: str) -> BlobUrl:
    """``file://DIR`` (everything after ``file://`` is the path: ``file:///srv/qa/blobs``) or
    ``s3://bucket[/prefix]``; the error names the variable ``name``."""
    if url.startswith("file://") and len(url) > len("file://"):
        return BlobUrl("file", path=Path(url.removeprefix("file://")))
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        prefix = prefix.strip("/")
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise SettingsError(
                f"{name}={url!r}: bucket {bucket!r} must be 3-63 characters of a-z, 0-9, '.', '-'"
            )
        if prefix and (not _PREFIX.match(prefix) or ".." in prefix.split("/")):
            raise SettingsError(
                f"{name}={url!r}: prefix {prefix!r} may hold only A-Z a-z 0-9 . _ - and /"
            )
        return BlobUrl("s3", bucket=bucket, prefix=prefix)
    raise SettingsError(f"{name}={url!r} must be file://DIRECTORY or s3://bucket/prefix")


def decode_master_key(name: str, raw: str) -> bytes:
    """The master key that seals the database keyring: base64 of exactly 32 bytes."""
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        raise SettingsError(f"{name} is not base64 (generate one: `qa keys master-key`)") from None
    if len(key) != 32:
        raise SettingsError(f"{name} must decode to 32 bytes (AES-256), not {len(key)}")
    return key


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
