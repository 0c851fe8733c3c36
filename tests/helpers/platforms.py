"""Tests build their ``Platform`` the way the CLI does: stages go through the worker package's
Celery app (eager without a broker), imported only when a test really sends work."""

from __future__ import annotations

from qa_platform.domain.pipeline import Dispatch, Stage
from qa_platform.services.context import Platform
from qa_platform.settings import Settings


def celery_dispatch(settings: Settings) -> Dispatch:
    def dispatch(stage: Stage, call_id: int, pipeline_version: str) -> None:
        from workers.celery_app import dispatcher

        dispatcher(settings)(stage, call_id, pipeline_version)

    return dispatch


def make_platform(settings: Settings) -> Platform:
    return Platform(settings, dispatch=celery_dispatch(settings))


def without_dispatch(platform: Platform) -> Platform:
    """``platform`` as an ingest whose first-stage message never left: the upload's hand-off
    sends it after commit, and a test that starts from a lost (or hand-made) message uses this."""
    return Platform(platform.settings, clock=platform.clock, dispatch=None)
