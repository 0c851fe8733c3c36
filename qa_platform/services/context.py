"""The handles a service needs (settings, database, blob store, keyring), built lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from qa_platform.clock import SYSTEM_CLOCK, Clock
from qa_platform.retention import RetentionRules
from qa_platform.settings import Settings, get_settings
from storage.blobs import LocalBlobStore
from storage.keyring import Keyring
from storage.uow import UnitOfWork


@dataclass
class Platform:
    settings: Settings = field(default_factory=get_settings)
    clock: Clock = SYSTEM_CLOCK

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.settings)

    @cached_property
    def store(self) -> LocalBlobStore:
        return LocalBlobStore(self.settings.blobs)

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring.load(self.settings.keyring)

    @cached_property
    def retention_rules(self) -> RetentionRules:
        path = self.settings.retention_rules_path
        from pathlib import Path

        return RetentionRules.load(Path(path) if path else None)

    def reload_keyring(self) -> Keyring:
        self.__dict__.pop("keyring", None)
        return self.keyring
