"""Per-process state of a worker: the platform handles and the loaded models.

Models load once per worker *process*: ``warm_up`` runs in Celery's ``worker_process_init``
(after fork, never in the parent), and every getter also loads lazily so that the eager
embedded mode and ``--pool solo`` work the same way.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from qa_platform.services.context import Platform
from qa_platform.settings import Settings

log = logging.getLogger(__name__)

_platforms: dict[Settings, Platform] = {}
_diarizers: dict[str, Any] = {}


def platform(settings: Settings) -> Platform:
    """The worker's composition root: one ``Platform`` per settings per process, sending the
    next stages through this process's Celery app."""
    if settings not in _platforms:
        from workers.celery_app import dispatcher

        _platforms[settings] = Platform(settings, dispatch=dispatcher(settings))
    return _platforms[settings]


def transcriber(settings: Settings) -> Any:
    """The process's Whisper transcriber (the engines cache it per model configuration)."""
    from workers.pipeline import get_transcriber

    return get_transcriber(settings)


def mono_diarizer(settings: Settings) -> Any:
    """The process's diarizer for mono calls (pyannote directory or the built-in fallback)."""
    key = settings.pyannote_dir
    if key not in _diarizers:
        from workers.diarization import make_mono_diarizer

        _diarizers[key] = make_mono_diarizer(settings.pyannote_dir)
    return _diarizers[key]


def warm_up(settings: Settings) -> None:
    """Load the models in this (forked) worker process before its first task."""
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "0")
    _forget_inherited_connections(settings)
    transcriber(settings).load()
    mono_diarizer(settings)
    log.info("worker process %s: models loaded", os.getpid())


def _forget_inherited_connections(settings: Settings) -> None:
    # A pooled database connection inherited through fork must not be shared with the parent.
    from storage.db import make_engine

    make_engine(settings.database).dispose(close=False)
