"""Two supervisors act on the same evaluation at once on PostgreSQL: exactly one wins.

Always runs on PostgreSQL (a throw-away database on the local server), whatever
``QA_TEST_DATABASE`` says, because the point is PostgreSQL's row locking under the
``UPDATE … WHERE row_version = :v`` guard.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from scoring import services as svc
from scoring.plan import PlanFilters, SamplingPlan
from scoring.workflow import WorkflowError
from storage.audit import verify_chain
from storage.models import AuditEvent
from storage.models_scoring import AppealRow, EvaluationVersionRow
from storage.repositories import evaluations as evaluation_rows
from tests.factories import FULL, T0, make_calls, make_people

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A PostgreSQL database for this module only (overrides the session-wide choice)."""
    import tests.conftest as base

    previous = os.environ.get("QA_TEST_DATABASE")
    os.environ["QA_TEST_DATABASE"] = "postgres"
    try:
        gen = base.database_url.__wrapped__(tmp_path_factory)  # type: ignore[attr-defined]
        url = next(gen)
        yield url
        next(gen, None)
    finally:
        if previous is None:
            os.environ.pop("QA_TEST_DATABASE", None)
        else:
            os.environ["QA_TEST_DATABASE"] = previous


def _submitted(platform) -> dict:
    people = make_people(platform)
    make_calls(platform, people, 20)
    run = svc.run_sampling(platform.uow(), SamplingPlan("p", size=1, filters=PlanFilters()), seed=1)
    svc.assign_run(platform.uow(), run["run_id"], actor="sup1")
    ev = svc.list_evaluations(platform.uow())[0]
    eid, ins = ev["evaluation_id"], ev["inspector_id"]
    svc.start_evaluation(platform.uow(), eid, ins, at=T0)
    svc.save_scores(platform.uow(), eid, ins, {**FULL, "answer_accuracy": 10}, at=T0)
    svc.submit_evaluation(platform.uow(), eid, ins, at=T0)
    return ev


def _race(monkeypatch, actions) -> list:
    """Run the actions in two threads; both load the row before either writes it."""
    barrier = threading.Barrier(len(actions))
    original = evaluation_rows._write

    def write_after_both_loaded(*args, **kwargs):
        barrier.wait(timeout=20)
        return original(*args, **kwargs)

    monkeypatch.setattr(evaluation_rows, "_write", write_after_both_loaded)
    outcomes: list = [None] * len(actions)

    def work(k: int) -> None:
        try:
            outcomes[k] = actions[k]()
        except Exception as exc:  # collected and asserted below
            outcomes[k] = exc

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def _count(platform, stmt) -> int:
    with platform.uow() as uow:
        return uow.session.scalar(stmt)


def test_two_supervisors_approve_at_once_exactly_one_wins(platform, monkeypatch) -> None:
    assert platform.settings.database.startswith("postgresql")
    eid = _submitted(platform)["evaluation_id"]
    outcomes = _race(
        monkeypatch,
        [
            lambda: svc.approve_evaluation(platform.uow(), eid, "sup1", at=T0),
            lambda: svc.approve_evaluation(platform.uow(), eid, "sup2", at=T0),
        ],
    )
    wins = [o for o in outcomes if isinstance(o, dict)]
    losses = [o for o in outcomes if isinstance(o, svc.ConcurrentUpdateError)]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    assert (
        _count(
            platform,
            select(func.count())
            .select_from(EvaluationVersionRow)
            .where(EvaluationVersionRow.evaluation_id == eid),
        )
        == 1
    )
    assert (
        _count(
            platform,
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "evaluation.approve"),
        )
        == 1
    )
    assert svc.show_evaluation(platform.uow(), eid)["state"] == "approved"


def test_two_reviewers_decide_the_same_appeal_exactly_one_wins(platform, monkeypatch) -> None:
    ev = _submitted(platform)
    eid = ev["evaluation_id"]
    svc.approve_evaluation(platform.uow(), eid, "sup1", at=T0)
    svc.publish_evaluation(platform.uow(), eid, "sup1", at=T0)
    svc.file_appeal(platform.uow(), eid, ev["agent_id"], "口径已更新", ["answer_accuracy"], at=T0)
    outcomes = _race(
        monkeypatch,
        [
            lambda: svc.decide_appeal(platform.uow(), eid, "sup1", "upheld", at=T0),
            lambda: svc.decide_appeal(
                platform.uow(), eid, "sup2", "revised", "改判", {"answer_accuracy": 20}, at=T0
            ),
        ],
    )
    wins = [o for o in outcomes if isinstance(o, dict)]
    assert len(wins) == 1, outcomes
    assert all(isinstance(o, svc.ConcurrentUpdateError) for o in outcomes if o not in wins)
    shown = svc.show_evaluation(platform.uow(), eid)
    assert shown["state"] == "final"
    expected_versions = 2 if wins[0]["details"]["decision"] == "revised" else 1
    assert len(shown["versions"]) == expected_versions
    decided = _count(
        platform,
        select(func.count())
        .select_from(AppealRow)
        .where(AppealRow.evaluation_id == eid, AppealRow.decision.is_not(None)),
    )
    assert decided == 1
    with platform.uow() as uow:
        assert verify_chain(uow.session).ok


def test_unsynchronised_races_never_double_apply(platform) -> None:
    """Without the barrier: many rounds of two approvals; the loser fails either way."""
    eid = _submitted(platform)["evaluation_id"]
    errors: list[Exception] = []
    done: list[dict] = []

    def approve(user: str) -> None:
        try:
            done.append(svc.approve_evaluation(platform.uow(), eid, user, at=T0))
        except (svc.ConcurrentUpdateError, WorkflowError) as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=approve, args=(u,)) for u in ("sup1", "sup2", "sup1", "sup2")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(done) == 1 and len(errors) == 3
