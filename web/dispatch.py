"""How the web node hands an upload to the workers: the first pipeline stage is sent through
the workers' Celery app right after the upload's commit (only when a broker is configured).

``workers.celery_app`` is imported on the first send, never at start-up, and it loads no
speech engine (models are loaded by the worker processes after fork), so the web node still
installs and runs without torch or faster-whisper. This is the one import of ``workers`` the
web package makes (a named exception in ``.importlinter``).
"""

from __future__ import annotations

from qa_platform.domain.pipeline import Dispatch, Stage
from qa_platform.settings import Settings


def upload_dispatch(settings: Settings) -> Dispatch | None:
    """The web node's ``Dispatch``; ``None`` in the embedded default (eager Celery, no broker),
    where ``qa process`` runs the work instead of the upload request."""
    if settings.eager:
        return None

    def dispatch(stage: Stage, call_id: int, pipeline_version: str) -> None:
        from workers.celery_app import dispatcher

        dispatcher(settings)(stage, call_id, pipeline_version)

    return dispatch
