"""Periodic upkeep on Celery beat: scheduled, routed, and doing its job when run."""

from __future__ import annotations

from qa_platform.settings import Settings
from scoring import services as svc
from scoring.plan import PlanFilters, SamplingPlan
from scoring.scorecard import default_scorecard
from tests.integration.scoring_data import T0, make_calls, make_people
from workers.celery_app import make_celery
from workers.upkeep_tasks import CLOSE_WINDOWS, RECONCILE

FULL = {i.code: (False if i.red_line else i.points) for i in default_scorecard().items}


def test_beat_schedules_the_reconciler_and_window_closing_on_the_cpu_queue() -> None:
    app = make_celery(Settings(broker_url="redis://127.0.0.1:6379/9"))
    tasks = {e["task"]: e for e in app.conf.beat_schedule.values()}
    assert tasks[RECONCILE]["schedule"] <= 60  # lost messages are found within a minute
    assert {RECONCILE, CLOSE_WINDOWS} <= set(app.tasks)
    assert app.conf.task_routes[RECONCILE] == {"queue": "cpu"}
    assert app.conf.task_routes[CLOSE_WINDOWS] == {"queue": "cpu"}


def test_close_windows_task_finalises_a_published_evaluation_past_its_window(platform) -> None:
    people = make_people(platform)
    make_calls(platform, people, 10)
    run = svc.run_sampling(platform.uow(), SamplingPlan("p", size=1, filters=PlanFilters()), seed=1)
    svc.assign_run(platform.uow(), run["run_id"], actor="sup1")
    (ev,) = svc.list_evaluations(platform.uow())
    eid, ins = ev["evaluation_id"], ev["inspector_id"]
    svc.start_evaluation(platform.uow(), eid, ins, at=T0)
    svc.save_scores(platform.uow(), eid, ins, FULL, at=T0)
    svc.submit_evaluation(platform.uow(), eid, ins, at=T0)
    svc.approve_evaluation(platform.uow(), eid, "sup1", at=T0)
    svc.publish_evaluation(platform.uow(), eid, "sup1", at=T0)  # window long past by now
    app = make_celery(platform.settings)  # embedded default: eager, same task code
    result = app.tasks[CLOSE_WINDOWS].apply().get()
    assert result["closed"] == [eid]
    assert svc.show_evaluation(platform.uow(), eid)["state"] == "final"
    assert app.tasks[CLOSE_WINDOWS].apply().get() == {"closed": [], "skipped": []}  # idempotent


def test_reconcile_task_runs_and_reports_nothing_stuck_on_an_idle_platform(platform) -> None:
    app = make_celery(platform.settings)
    assert app.tasks[RECONCILE].apply().get() == {"resent": [], "dead_letters": []}
