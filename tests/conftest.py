"""Shared fixtures: a real database (SQLite or PostgreSQL), a fresh platform per test.

Choose the database with ``QA_TEST_DATABASE=sqlite|postgres`` (default sqlite). For
PostgreSQL a throw-away database is created on ``QA_TEST_PG_URL`` (default: the local server)
and dropped at the end. The schema comes from the real Alembic migrations, once per session;
each test starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from qa_platform.services.context import Platform
from qa_platform.settings import Settings, set_settings
from storage.audit import GENESIS
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models_all import Base
from tests.helpers.platforms import make_platform
from tests.helpers.seaweedfs import S3Server, start_seaweedfs

PG_ADMIN_URL = os.environ.get(
    "QA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def backend() -> str:
    return os.environ.get("QA_TEST_DATABASE", "sqlite")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend() == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"qa_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    make_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def clean_database(url: str) -> None:
    """Empty every table and reset the audit chain head."""
    engine = make_engine(url)
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name != "alembic_version"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # teams.lead_id and users.team_id point at each other: check at commit, when empty
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            for table in tables:
                conn.execute(table.delete())
        conn.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": GENESIS}
        )


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Iterator[Settings]:
    clean_database(database_url)
    s = Settings(
        home=tmp_path / "home",
        mode="test",
        database_url=database_url,
        chunk_size=4096,
        asr_model_cache=str(
            Path(os.environ.get("QA_TEST_MODEL_CACHE", Path.home() / ".cache" / "qa-platform"))
        ),
    )
    s.ensure_dirs()
    set_settings(s)
    yield s
    set_settings(None)


@pytest.fixture
def platform(settings: Settings) -> Platform:
    """A ready platform: schema migrated, empty tables, keyring created, blobs in tmp."""
    from storage.keyring import Keyring

    Keyring.load_or_create(settings.keyring)
    return make_platform(settings)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real SeaweedFS S3 server for the whole session (started on first use)."""
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    yield server
    server.stop()


@pytest.fixture
def s3_platform(settings: Settings, s3_server: S3Server) -> Platform:
    """Like ``platform``, with its blobs in the S3 server under a prefix of its own."""
    from storage.keyring import Keyring

    s3_settings = s3_server.settings(settings)
    set_settings(s3_settings)
    Keyring.load_or_create(s3_settings.keyring)
    plat = make_platform(s3_settings)
    plat.store.prepare()
    return plat
