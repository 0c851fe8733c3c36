from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_platform.settings import Settings, SettingsError

SECONDS = st.integers(min_value=1, max_value=20_000)


def test_embedded_defaults_live_under_home() -> None:
    s = Settings.from_env({"QA_HOME": "/srv/qa"})
    assert s.database == f"sqlite:///{Path('/srv/qa/qa.sqlite3').resolve()}"
    assert s.blobs == Path("/srv/qa/blobs")
    assert s.keyring == Path("/srv/qa/keyring.json")
    assert s.eager


def test_values_are_typed() -> None:
    s = Settings.from_env(
        {
            "QA_CHUNK_SIZE": "8192",
            "QA_INGEST_STRICT": "yes",
            "QA_ASR_HOTWORDS": "保单, 理赔",
            "QA_MAX_DURATION_S": "60.5",
        }
    )
    assert (s.chunk_size, s.ingest_strict, s.asr_hotwords, s.max_duration_s) == (
        8192,
        True,
        ("保单", "理赔"),
        60.5,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"QA_CHUNK_SIZE": "big"}, "QA_CHUNK_SIZE"),
        ({"QA_INGEST_STRICT": "maybe"}, "QA_INGEST_STRICT"),
        ({"QA_CHUNK_SIZE": "10"}, "QA_CHUNK_SIZE"),
        ({"QA_MODE": "prod"}, "QA_MODE"),
        ({"QA_MODE": "production", "QA_DATABASE_URL": "postgresql://x/y"}, "QA_SECRET_KEY"),
        ({"QA_MODE": "production", "QA_SECRET_KEY": "s"}, "QA_DATABASE_URL"),
        ({"QA_BROKER_URL": "http://x"}, "QA_BROKER_URL"),
        ({"QA_ASR_DEVICE": "tpu"}, "QA_ASR_DEVICE"),
        ({"QA_BROKER_VISIBILITY_TIMEOUT_S": "100"}, "QA_BROKER_VISIBILITY_TIMEOUT_S"),
        ({"QA_TASK_HARD_TIME_LIMIT_S": "soon"}, "QA_TASK_HARD_TIME_LIMIT_S"),
        ({"QA_TASK_SOFT_TIME_LIMIT_S": "9000"}, "QA_TASK_HARD_TIME_LIMIT_S"),
    ],
)
def test_bad_setting_names_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


@settings(max_examples=200, deadline=None)
@given(soft=SECONDS, hard=SECONDS, visibility=SECONDS)
def test_visibility_timeout_exceeds_hard_limit_by_default(
    soft: int, hard: int, visibility: int
) -> None:
    # Any limits read from the environment: accepted exactly when visibility > hard > soft
    # (defaults included), otherwise refused with the variable at fault named.
    env = {
        "QA_TASK_SOFT_TIME_LIMIT_S": str(soft),
        "QA_TASK_HARD_TIME_LIMIT_S": str(hard),
        "QA_BROKER_VISIBILITY_TIMEOUT_S": str(visibility),
    }
    if visibility > hard > soft:
        s = Settings.from_env(env)
        assert (s.broker_visibility_timeout_s, s.task_hard_time_limit_s) == (visibility, hard)
        return
    named = "QA_TASK_HARD_TIME_LIMIT_S" if hard <= soft else "QA_BROKER_VISIBILITY_TIMEOUT_S"
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_the_default_limits_are_accepted_in_order() -> None:
    s = Settings.from_env({})
    assert s.broker_visibility_timeout_s > s.task_hard_time_limit_s > s.task_soft_time_limit_s


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
@pytest.mark.parametrize(
    "name",
    ["QA_MAX_DURATION_S", "QA_TASK_RETRY_BACKOFF_S", "QA_REPORT_CONFIDENCE", "QA_MIN_DURATION_S"],
)
def test_non_finite_numbers_are_refused_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=rf"{name}=.*finite"):
        Settings.from_env({name: raw})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"QA_MIN_DURATION_S": "-1"}, "QA_MIN_DURATION_S"),
        ({"QA_TASK_RETRY_BACKOFF_S": "-2"}, "QA_TASK_RETRY_BACKOFF_S"),
        ({"QA_JOB_MAX_ATTEMPTS": "0"}, "QA_JOB_MAX_ATTEMPTS"),
        ({"QA_REPORT_CONFIDENCE": "1.5"}, "QA_REPORT_CONFIDENCE"),
        ({"QA_MAX_CHANNELS": "0"}, "QA_MAX_CHANNELS"),
        ({"QA_MAX_SAMPLE_RATE": "1000000"}, "QA_MAX_SAMPLE_RATE"),
        ({"QA_MAX_DECODED_SAMPLES": "0"}, "QA_MAX_DECODED_SAMPLES"),
        ({"QA_MAX_REQUEST_BYTES": "10"}, "QA_MAX_REQUEST_BYTES"),
    ],
)
def test_numbers_out_of_range_are_refused(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_trusted_proxies_are_a_list() -> None:
    s = Settings.from_env({"QA_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2"})
    assert s.trusted_proxies == ("10.0.0.1", "10.0.0.2")
