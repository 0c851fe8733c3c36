"""Unit of work: one owner per transaction (commit or roll back), repositories only query/add."""

from __future__ import annotations

from types import TracebackType
from typing import Generic, Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from storage.db import session_factory


class DatabaseConfig(Protocol):
    """What storage needs of the configuration: the database URL (storage imports no settings
    module; the caller's settings object rides along for the services that read it)."""

    @property
    def database(self) -> str: ...


S = TypeVar("S", bound=DatabaseConfig)


class UnitOfWork(Generic[S]):
    """``with UnitOfWork(settings) as uow: ...; uow.commit()`` — leaving without commit rolls
    back."""

    def __init__(self, settings: S, factory: sessionmaker[Session] | None = None) -> None:
        self.settings = settings
        self._factory = factory or session_factory(settings.database)
        self.session: Session

    def __enter__(self) -> UnitOfWork[S]:
        self.session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back anything uncommitted without expiring loaded objects, so
        # read-only units of work can hand plain values back to their caller.
        try:
            if exc_type is not None:
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def flush(self) -> None:
        self.session.flush()
