"""Scoring services end to end on the configured database (SQLite by default, PostgreSQL too)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from scoring import services as svc
from scoring.assignment import AssignmentError
from scoring.plan import PlanFilters, SamplingPlan
from scoring.sampling import Method, SamplingError
from scoring.workflow import WorkflowError
from storage.audit import verify_chain
from storage.models import AuditEvent
from storage.repositories import SqlEvaluationRepository
from tests.factories import FULL, T0, make_calls, make_people


@pytest.fixture
def world(platform):
    people = make_people(platform)
    calls = make_calls(platform, people, 120, flagged_every=7)
    return platform, people, calls


def test_sampling_run_is_stored_reproducible_and_eligible(world) -> None:
    platform, _, calls = world
    plan = SamplingPlan(
        "weekly",
        size=20,
        filters=PlanFilters(period_start=T0.date(), period_end=(T0 + timedelta(days=30)).date()),
    )
    run = svc.run_sampling(platform.uow(), plan, seed=42)
    again = svc.run_sampling(platform.uow(), plan, seed=42)
    assert run["call_ids"] == again["call_ids"] and run["frame_hash"] == again["frame_hash"]
    assert run["run_id"] != again["run_id"] and len(run["call_ids"]) == 20
    analysed = {c for i, c in enumerate(calls) if i % 10}  # make_calls leaves every 10th queued
    assert set(run["call_ids"]) <= analysed
    assert svc.show_run(platform.uow(), run["run_id"]) == run
    assert svc.verify_run(platform.uow(), run["run_id"])["sample_identical"] is True


def test_stored_plan_versions_and_stratified_run(world) -> None:
    platform, people, _ = world
    first = svc.save_plan(
        platform.uow(),
        {
            "name": "by-type",
            "method": "stratified_proportional",
            "stratify_by": "business_type",
            "size": 30,
        },
        actor="sup1",
    )
    second = svc.save_plan(
        platform.uow(),
        {"name": "by-type", "method": "agent_quota", "per_agent_quota": 3},
        actor="sup1",
    )
    assert (first["version"], second["version"]) == (1, 2)
    run = svc.run_sampling(platform.uow(), "by-type", seed=1)
    assert run["method"] == str(Method.AGENT_QUOTA) and run["plan_version"] == 2
    assert run["allocation"] == {str(a): 3 for a in people.agents}


def test_targeted_stream_is_separate(world) -> None:
    platform, _, _ = world
    plan = SamplingPlan("abuse", stream="targeted", method="targeted", flag_types=("abuse_agent",))
    run = svc.run_sampling(platform.uow(), plan.validate(), seed=3)
    assert run["stream"] == "targeted" and run["call_ids"]
    with pytest.raises(SamplingError, match="random stream cannot select by flag"):
        svc.run_sampling(platform.uow(), SamplingPlan("bad", size=1, flag_types=("abuse_agent",)))


def _assigned(platform, people, size=6):
    plan = SamplingPlan("p", size=size, filters=PlanFilters(analysed_only=True))
    run = svc.run_sampling(platform.uow(), plan, seed=9)
    return svc.assign_run(platform.uow(), run["run_id"], actor="sup1")


def test_assignment_balances_and_excludes_own_team(world) -> None:
    platform, people, _ = world
    result = _assigned(platform, people, size=12)
    load = Counter(result["assigned"].values())
    assert max(load.values()) - min(load.values()) <= 1 or len(load) < 3
    queue = svc.list_evaluations(platform.uow())
    for ev in queue:
        assert people.teams[ev["inspector_id"]] != people.teams[ev["agent_id"]]
    away = people.inspectors[0]
    moved = svc.reassign_away(platform.uow(), away, actor="sup1")
    assert set(moved["moved"].values()) <= set(people.inspectors) - {away}
    assert not svc.list_evaluations(platform.uow(), inspector=away, state="assigned")


def test_full_workflow_with_revised_appeal_and_audit(world) -> None:
    platform, people, _ = world
    _assigned(platform, people, size=1)
    ev = svc.list_evaluations(platform.uow())[0]
    eid, inspector = ev["evaluation_id"], ev["inspector_id"]
    agent = ev["agent_id"]
    u = platform.uow
    svc.start_evaluation(u(), eid, inspector, at=T0)
    svc.save_scores(u(), eid, inspector, {**FULL, "answer_accuracy": 10}, at=T0)
    svc.add_comment(u(), eid, inspector, 12.5, "答复不完整", "answer_accuracy", at=T0)
    svc.submit_evaluation(u(), eid, inspector, at=T0)
    with pytest.raises(WorkflowError, match="only a supervisor"):
        svc.approve_evaluation(u(), eid, inspector, at=T0)
    svc.approve_evaluation(u(), eid, "sup1", at=T0)
    published = svc.publish_evaluation(u(), eid, "sup1", at=T0)
    assert published["state"] == "published"
    svc.file_appeal(
        u(), eid, agent, "知识库口径已更新", ["answer_accuracy"], at=T0 + timedelta(hours=2)
    )
    svc.assign_appeal_reviewer(u(), eid, "sup1", "sup2", at=T0)
    blind = svc.show_evaluation(u(), eid, viewer="sup2")
    assert blind["inspector_id"] is None
    decided = svc.decide_appeal(
        u(), eid, "sup2", "revised", "改判", {"answer_accuracy": 20}, at=T0 + timedelta(hours=3)
    )
    assert decided["state"] == "final"
    shown = svc.show_evaluation(u(), eid)
    assert [v["number"] for v in shown["versions"]] == [1, 2]
    assert shown["versions"][0]["results"]["answer_accuracy"]["score"] == 10
    assert shown["versions"][1]["total"] == 100.0 and shown["total"] == 100.0
    assert shown["versions"][0]["comments"][0]["at_s"] == 12.5
    with u() as uow:
        actions = uow.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "evaluation")
            .order_by(AuditEvent.seq)
        ).all()
        assert verify_chain(uow.session).ok
    assert actions[-4:] == [
        "evaluation.publish",
        "evaluation.appeal",
        "evaluation.assign_reviewer",
        "evaluation.decide_appeal",
    ]
    for expected in (
        "evaluation.start",
        "evaluation.submit",
        "evaluation.approve",
        "evaluation.publish",
        "evaluation.appeal",
        "evaluation.decide_appeal",
    ):
        assert expected in actions


def test_close_windows_finalises_only_expired(world) -> None:
    platform, people, _ = world
    _assigned(platform, people, size=2)
    u = platform.uow
    evs = svc.list_evaluations(u())
    for ev in evs:
        eid, ins = ev["evaluation_id"], ev["inspector_id"]
        svc.start_evaluation(u(), eid, ins, at=T0)
        svc.save_scores(u(), eid, ins, FULL, at=T0)
        svc.submit_evaluation(u(), eid, ins, at=T0)
        svc.approve_evaluation(u(), eid, "sup1", at=T0)
    svc.publish_evaluation(u(), evs[0]["evaluation_id"], "sup1", at=T0)
    svc.publish_evaluation(u(), evs[1]["evaluation_id"], "sup1", at=T0 + timedelta(days=7))
    result = svc.close_appeal_windows(u(), at=T0 + timedelta(days=5))
    assert result["closed"] == [evs[0]["evaluation_id"]]
    with pytest.raises(WorkflowError, match="in state 'final'"):
        svc.file_appeal(
            u(),
            evs[0]["evaluation_id"],
            evs[0]["agent_id"],
            "late",
            ["friendly_tone"],
            at=T0 + timedelta(days=5),
        )
    with pytest.raises(WorkflowError, match="window closed"):  # passed, not yet closed by the job
        svc.file_appeal(
            u(),
            evs[1]["evaluation_id"],
            evs[1]["agent_id"],
            "late",
            ["friendly_tone"],
            at=T0 + timedelta(days=15),
        )


def test_stale_row_version_loses(world) -> None:
    platform, people, _ = world
    _assigned(platform, people, size=1)
    ev = svc.list_evaluations(platform.uow())[0]
    with platform.uow() as uow:
        from storage.models_scoring import EvaluationRow

        row = uow.session.get(EvaluationRow, ev["evaluation_id"])
        uow.session.expunge(row)
    svc.start_evaluation(platform.uow(), ev["evaluation_id"], ev["inspector_id"])
    with platform.uow() as uow:  # the stale copy still says row_version 1, state assigned
        sup = svc.actor_for(uow.session, "sup1")
        repo = SqlEvaluationRepository(uow.session)
        current = repo.get(row.id).evaluation
        current.reassign(people.inspectors[1], sup, T0)
        with pytest.raises(svc.ConcurrentUpdateError, match="changed by someone else"):
            repo.save(current, row.row_version, T0)


def test_calibration_session_report(world) -> None:
    platform, people, calls = world
    u = platform.uow
    session = svc.create_calibration(
        u(), "march", calls[1:4], people.inspectors, actor="sup1", reference_by=people.supervisor
    )
    sid = session["session_id"]
    for k, call in enumerate(calls[1:4]):
        for j, ins in enumerate(people.inspectors):
            svc.record_calibration_scores(
                u(), sid, ins, call, {"answer_accuracy": 20 - 5 * ((j + k) % 2), "friendly_tone": 8}
            )
        svc.record_calibration_scores(
            u(), sid, people.supervisor, call, {"answer_accuracy": 20, "friendly_tone": 8}
        )
    report = svc.calibration_report(u(), sid)
    assert report["reference_source"] == "supervisor"
    tone = next(i for i in report["items"] if i["item_code"] == "friendly_tone")
    assert tone["raters"] == 3 and tone["calls"] == 3
    devs = {d["inspector_id"]: d for d in report["inspectors"]}
    assert all(d["mean_deviation"] <= 0 for d in devs.values())
    with pytest.raises(svc.CalibrationError, match="not a participant"):
        svc.record_calibration_scores(u(), sid, people.supervisor_2, calls[1], {"friendly_tone": 8})


def test_a_closed_calibration_session_refuses_scores(world) -> None:
    """calib: closing freezes the scores (409 on the page, exit 2 on the CLI)."""
    platform, people, calls = world
    u = platform.uow
    sid = svc.create_calibration(u(), "close", calls[1:3], people.inspectors, actor="sup1")[
        "session_id"
    ]
    svc.record_calibration_scores(u(), sid, people.inspectors[0], calls[1], {"friendly_tone": 8})
    assert svc.close_calibration(u(), sid, "sup1") == {"session_id": sid, "status": "closed"}
    with pytest.raises(svc.CalibrationClosed, match="is closed"):
        svc.record_calibration_scores(
            u(), sid, people.inspectors[0], calls[1], {"friendly_tone": 4}
        )
    with pytest.raises(svc.CalibrationClosed):
        svc.close_calibration(u(), sid, "sup1")
    with pytest.raises(AssignmentError, match="only a supervisor"):
        svc.close_calibration(u(), sid, people.inspectors[0])
    report = svc.calibration_report(u(), sid)
    tone = next(d for d in report["inspectors"] if d["inspector_id"] == people.inspectors[0])
    assert tone["scored"] == 1  # the refused re-score changed nothing


def test_call_show_lists_runs_and_evaluations(world) -> None:
    from qa_platform.queries.calls import show_call

    platform, people, _ = world
    _assigned(platform, people, size=1)
    ev = svc.list_evaluations(platform.uow())[0]
    detail = show_call(platform, ev["call_id"])
    assert detail["evaluations"][0]["evaluation_id"] == ev["evaluation_id"]
    assert detail["sampled_in"][0]["stream"] == "random"
