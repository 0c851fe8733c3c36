"""Engine and session factories. Nothing connects until a factory is called."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@lru_cache(maxsize=8)
def make_engine(url: str) -> Engine:
    """One engine per database URL per process (pooled connections)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=make_engine(url), expire_on_commit=False, future=True)


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


def rowcount(result: Result[Any]) -> int:
    """Rows changed by an UPDATE or DELETE (typed access to the cursor result)."""
    return int(cast("CursorResult[Any]", result).rowcount)
