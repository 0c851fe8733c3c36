"""The retention purge runs daily on Celery beat and, without a broker, from cron (`qa retention
purge`): both paths shred an expired call's recording and content, and a second run does nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from celery.schedules import crontab
from click.testing import CliRunner
from sqlalchemy import func, select

from qa_platform.cli import main
from qa_platform.domain.calls import CallMetadata
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.settings import Settings
from storage.models import Call
from storage.models_pipeline import TranscriptSegment
from tests.factories import analyse_call
from tests.helpers.files import make_audio
from workers.celery_app import make_celery
from workers.upkeep_tasks import PURGE


def _expired_analysed_call(platform: Platform, tmp: Path) -> int:
    """A call from 2020 (3-year retention long over) with the story transcript."""
    meta = CallMetadata.parse({"started_at": "2020-03-02T01:00:00+00:00"})
    call_id = ingest_file(platform, make_audio(tmp / "old.wav", seed=3), meta).call_id
    analyse_call(platform, call_id)
    return call_id


def _state(platform: Platform, call_id: int) -> tuple[str, int]:
    with platform.uow() as uow:
        status = uow.session.scalar(select(Call.status).where(Call.id == call_id))
        segments = uow.session.scalar(
            select(func.count())
            .select_from(TranscriptSegment)
            .where(TranscriptSegment.call_id == call_id)
        )
    return str(status), int(segments or 0)


def test_beat_runs_the_purge_daily_in_the_centre_time_zone_on_the_cpu_queue() -> None:
    app = make_celery(Settings(broker_url="redis://127.0.0.1:6379/9"))
    (entry,) = [e for e in app.conf.beat_schedule.values() if e["task"] == PURGE]
    assert isinstance(entry["schedule"], crontab)
    assert entry["schedule"].hour == {2} and entry["schedule"].minute == {30}
    assert entry["schedule"].day_of_week == set(range(7))  # every day
    assert app.conf.timezone == "Asia/Shanghai"
    assert app.conf.task_routes[PURGE] == {"queue": "cpu"}


def test_beat_task_shreds_an_expired_call_and_is_idempotent(
    platform: Platform, tmp_path: Path
) -> None:
    call_id = _expired_analysed_call(platform, tmp_path)
    assert _state(platform, call_id) == ("analysed", 5)
    app = make_celery(platform.settings)  # embedded default: eager, same task code
    assert app.tasks[PURGE].apply().get() == {"purged": [call_id], "skipped": []}
    assert _state(platform, call_id) == ("purged", 0)
    assert app.tasks[PURGE].apply().get() == {"purged": [], "skipped": []}


def test_cron_command_shreds_without_a_broker(platform: Platform, tmp_path: Path) -> None:
    call_id = _expired_analysed_call(platform, tmp_path)
    runner = CliRunner()
    dry = runner.invoke(main, ["retention", "purge", "--dry-run", "--json"])
    assert dry.exit_code == 0 and json.loads(dry.stdout)[0]["purged"] is False
    assert _state(platform, call_id) == ("analysed", 5)
    done = runner.invoke(main, ["retention", "purge", "--json"])
    assert done.exit_code == 0, done.output
    (item,) = json.loads(done.stdout)
    assert item["call_id"] == call_id and item["purged"] is True
    assert item["erased"]["transcript_segments"] == 5 and item["erased"]["call_flags"] == 1
    assert _state(platform, call_id) == ("purged", 0)
