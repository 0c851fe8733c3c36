"""Choosing the blob store and keyring source from settings; errors name the variable."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from qa_platform.services.stores import configured_store
from qa_platform.settings import Settings, SettingsError
from storage.blobs import FallbackBlobStore, LocalBlobStore
from storage.s3 import S3BlobStore

S3 = {
    "QA_BLOB_URL": "s3://qa-recordings/centre-1",
    "QA_S3_ENDPOINT": "http://127.0.0.1:8333",
    "QA_S3_ACCESS_KEY": "AKIA-test",
    "QA_S3_SECRET_KEY": "secret-value",
}
MASTER = base64.b64encode(b"m" * 32).decode()


def test_the_default_is_todays_local_directory() -> None:
    s = Settings.from_env({"QA_HOME": "/srv/qa"})
    store = configured_store(s)
    assert isinstance(store, LocalBlobStore) and store.root == Path("/srv/qa/blobs")


def test_a_file_url_names_the_directory() -> None:
    s = Settings.from_env({"QA_BLOB_URL": "file:///data/blobs"})
    assert s.blobs == Path("/data/blobs")
    assert configured_store(s).describe() == "file:///data/blobs"


def test_an_s3_url_builds_the_s3_store_without_connecting() -> None:
    s = Settings.from_env(S3)
    store = configured_store(s)
    assert isinstance(store, S3BlobStore)
    assert (store.config.bucket, store.config.prefix) == ("qa-recordings", "centre-1")
    assert store.key("ab" * 16) == f"centre-1/ab/ab/{'ab' * 16}"
    assert "secret-value" not in repr(s) and "secret-value" not in repr(store.config)


def test_a_fallback_url_reads_through_to_the_old_store() -> None:
    s = Settings.from_env({**S3, "QA_BLOB_FALLBACK_URL": "file:///old/blobs"})
    store = configured_store(s)
    assert isinstance(store, FallbackBlobStore)
    assert isinstance(store.primary, S3BlobStore) and isinstance(store.fallback, LocalBlobStore)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"QA_BLOB_URL": "s3://qa"}, "QA_BLOB_URL"),  # bucket names need 3+ characters
        ({"QA_BLOB_URL": "s3://Qa_Bucket"}, "QA_BLOB_URL"),
        ({"QA_BLOB_URL": "s3://qa-b/../x"}, "QA_BLOB_URL"),
        ({"QA_BLOB_URL": "ftp://x"}, "QA_BLOB_URL"),
        ({"QA_BLOB_URL": "file://"}, "QA_BLOB_URL"),
        ({**S3, "QA_S3_ACCESS_KEY": ""}, "QA_S3_ACCESS_KEY"),
        ({**S3, "QA_S3_SECRET_KEY": ""}, "QA_S3_SECRET_KEY"),
        ({**S3, "QA_S3_ENDPOINT": "127.0.0.1:8333"}, "QA_S3_ENDPOINT"),
        ({**S3, "QA_S3_PART_SIZE": "1024"}, "QA_S3_PART_SIZE"),
        ({**S3, "QA_S3_MAX_ATTEMPTS": "0"}, "QA_S3_MAX_ATTEMPTS"),
        ({**S3, "QA_S3_TIMEOUT_S": "nan"}, "QA_S3_TIMEOUT_S"),
        ({"QA_BLOB_FALLBACK_URL": "s3://old-bucket"}, "QA_S3_ACCESS_KEY"),
        ({"QA_KEYRING_URL": "vault://x"}, "QA_KEYRING_URL"),
        ({"QA_KEYRING_URL": "db://"}, "QA_MASTER_KEY"),
        ({"QA_KEYRING_URL": "db://", "QA_MASTER_KEY": "short"}, "QA_MASTER_KEY"),
        (
            {"QA_KEYRING_URL": "db://", "QA_MASTER_KEY": MASTER, "QA_MASTER_KEY_FILE": "/k"},
            "QA_MASTER_KEY",
        ),
    ],
)
def test_bad_store_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_s3_credentials_are_not_needed_for_the_local_store() -> None:
    s = Settings.from_env({"QA_S3_ACCESS_KEY": "", "QA_S3_PART_SIZE": "1"})
    assert s.blob_location.kind == "file"


def test_db_keyring_with_a_master_key_is_accepted() -> None:
    s = Settings.from_env({"QA_KEYRING_URL": "db://", "QA_MASTER_KEY": MASTER})
    assert s.keyring_in_database and MASTER not in repr(s)
