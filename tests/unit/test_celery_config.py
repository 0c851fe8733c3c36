"""The Celery settings that the fault findings in RELIABILITY.md call for."""

from __future__ import annotations

import pytest

from qa_platform.domain.pipeline import STAGES
from qa_platform.settings import Settings, SettingsError
from workers.celery_app import celery_config, make_celery

PRODUCTION_LIKE = Settings(broker_url="redis://127.0.0.1:6379/9")


def test_visibility_timeout_exceeds_hard_limit_exceeds_soft_limit() -> None:
    conf = make_celery(PRODUCTION_LIKE).conf
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility > conf.task_time_limit > conf.task_soft_time_limit


def test_settings_refuse_a_visibility_timeout_shorter_than_the_hard_limit() -> None:
    with pytest.raises(SettingsError, match="VISIBILITY_TIMEOUT"):
        Settings.from_env(
            {}, task_soft_time_limit_s=10, task_hard_time_limit_s=20, broker_visibility_timeout_s=15
        )


def test_app_acks_late_rejects_on_worker_lost_prefetches_one_and_speaks_json_only() -> None:
    conf = make_celery(PRODUCTION_LIKE).conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert list(conf.accept_content) == ["json"]
    assert conf.task_serializer == "json"
    assert conf.worker_max_tasks_per_child and conf.worker_max_tasks_per_child > 0


def test_each_stage_is_routed_to_its_queue_under_a_stable_name() -> None:
    app = make_celery(PRODUCTION_LIKE)
    routes = app.conf.task_routes
    assert routes["qa.pipeline.transcribe"] == {"queue": "gpu"}
    assert routes["qa.pipeline.features"] == {"queue": "cpu"}
    for s in STAGES:
        task = app.tasks[s.task]
        assert task.name == s.task
        assert task.acks_late and task.reject_on_worker_lost


def test_embedded_default_runs_eagerly_and_a_broker_url_does_not() -> None:
    assert celery_config(Settings())["task_always_eager"] is True
    assert celery_config(PRODUCTION_LIKE)["task_always_eager"] is False


def test_building_the_app_connects_to_nothing() -> None:
    # An unreachable broker: building the app (and its config) must not try to connect.
    app = make_celery(Settings(broker_url="redis://203.0.113.1:1/0"))
    assert app.conf.broker_url == "redis://203.0.113.1:1/0"
    assert "qa.pipeline.finish" in app.tasks
