"""The composition root (``Platform``): settings, clock, pipeline dispatch, database, blobs, keys.

Each entry point builds one and passes it down: the ``qa`` CLI (``qa_platform.cli.platform``),
the web app factory (``web.create_app``) and the Celery worker (``workers.runtime.platform``).
Nothing is found through package metadata or registered by import side effects; a handle the
entry point did not give (a web node sends no pipeline work) fails with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from qa_platform.clock import SYSTEM_CLOCK, Clock
from qa_platform.domain.errors import QaError
from qa_platform.domain.pipeline import Dispatch
from qa_platform.retention import RetentionRules
from qa_platform.services.stores import configured_store, keyring_source
from qa_platform.settings import Settings
from storage.blobs import BlobStore
from storage.keyring import Keyring
from storage.uow import UnitOfWork


class PipelineUnavailable(QaError):
    """This process was built without a way to send pipeline work."""


@dataclass
class Platform:
    """What a service needs, built lazily: nothing connects until first used."""

    settings: Settings
    clock: Clock = SYSTEM_CLOCK
    dispatch: Dispatch | None = None

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.settings)

    def dispatcher(self) -> Dispatch:
        """How this process sends pipeline stages (Celery, eager or a test's recorder)."""
        if self.dispatch is None:
            raise PipelineUnavailable(
                "this process was started without a task queue: run `qa process` or a worker"
            )
        return self.dispatch

    @cached_property
    def store(self) -> BlobStore:
        """The blob store ``QA_BLOB_URL`` names (local directory by default, or S3)."""
        return configured_store(self.settings)

    @cached_property
    def keyring(self) -> Keyring:
        """The KEKs from ``QA_KEYRING_URL``: the keyring file, or sealed in the database."""
        return keyring_source(self.settings).load()

    @cached_property
    def retention_rules(self) -> RetentionRules:
        path = self.settings.retention_rules_path
        return RetentionRules.load(Path(path) if path else None)

    def reload_keyring(self) -> Keyring:
        self.__dict__.pop("keyring", None)
        return self.keyring
