"""A small world for report tests: six analysed calls on Monday 2026-03-02 (Shanghai), all
sampled in the random stream, scored, approved and published on Tuesday through the scoring
services; three of them lost points on answer_accuracy (a business-accuracy item)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from scoring import services as svc
from scoring.plan import PlanFilters, SamplingPlan
from scoring.scorecard import default_scorecard
from storage.models import Call, CallFlag
from tests.integration.scoring_data import make_people

DAY = date(2026, 3, 2)
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 Monday in Shanghai
PUBLISHED = T0 + timedelta(days=1)  # Tuesday
DURING_WINDOW = PUBLISHED + timedelta(hours=2)
AFTER_WINDOWS = T0 + timedelta(days=10)
FULL = {i.code: (False if i.red_line else i.points) for i in default_scorecard().items}


def _calls(platform, people, n=6):
    with platform.uow() as uow:
        for i in range(n):
            agent = people.agents[i % 2]
            call = Call(
                agent_id=agent, team_id=people.teams[agent], business_type="理赔",
                started_at=T0 + timedelta(minutes=10 * i), status="analysed", duration_s=120.0,
                channels=2, sample_rate=8000, audio_format="wav", satisfaction=5 - i % 3,
                retain_until=T0 + timedelta(days=1100), created_at=T0, updated_at=T0,
            )  # fmt: skip
            uow.session.add(call)
            uow.session.flush()
            if i == 0:
                uow.session.add(CallFlag(
                    call_id=call.id, type="long_silence", severity="low", role="both", start=1.0,
                    end=9.0, evidence="8 s", rule_set_version="rules-v1", created_at=T0,
                ))  # fmt: skip
        uow.commit()


def build_world(platform):
    people = make_people(platform)
    _calls(platform, people)
    plan = SamplingPlan("daily", size=6, filters=PlanFilters(analysed_only=True))
    run = svc.run_sampling(platform.uow(), plan, seed=7)
    svc.assign_run(platform.uow(), run["run_id"], actor="sup1", exclude_own_team=False)
    u = platform.uow
    evaluations = svc.list_evaluations(u())
    for n, ev in enumerate(evaluations):
        eid, ins = ev["evaluation_id"], ev["inspector_id"]
        scores = FULL if n % 2 else {**FULL, "answer_accuracy": 10}  # 3 with a business error
        svc.start_evaluation(u(), eid, ins, at=T0)
        svc.save_scores(u(), eid, ins, scores, at=T0)
        svc.submit_evaluation(u(), eid, ins, at=T0)
        svc.approve_evaluation(u(), eid, "sup1", at=T0)
        svc.publish_evaluation(u(), eid, "sup1", at=PUBLISHED)
    return platform, people, evaluations
