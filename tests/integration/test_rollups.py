"""Daily report roll-ups (日汇总, issue 16): the monthly report's figures read from the roll-up
equal the raw ones, on the same data, after a rebuild and after incremental changes (a flag
rerun, a call finishing analysis, an evaluation published); a roll-up that does not cover the
period is never read."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from qa_platform.cli import main
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services import retention as retention_service
from scoring.plan import PlanFilters, SamplingPlan
from scoring.reports import compute_metrics, period_for
from scoring.reports.periods import PeriodError
from scoring.reports.queries import Names, load_period, load_volume
from scoring.reports.rollup import rebuild_rollups
from scoring.reports.snapshots import centre_tz
from storage import rollups
from storage.models_rollups import DailyCallRollup
from tests.factories import (
    FULL,
    T0,
    add_call,
    flag,
    make_calls,
    make_people,
    publish_scored,
    sample_and_assign,
    set_flags,
)

MONTH = date(2026, 3, 1)
NOW = T0 + timedelta(days=40)


def both_ways(platform):
    """The month loaded through the roll-up and raw, and the report metrics of each."""
    period = period_for("monthly", MONTH)
    tz = centre_tz(platform.settings)
    out = []
    for use_rollup in (True, False):
        with platform.uow() as uow:
            loaded = load_period(uow.session, period, tz, NOW, use_rollup=use_rollup)
            out.append((loaded.inputs, loaded.versions, compute_metrics(loaded.inputs)))
    return out


def assert_same(platform):
    (r_in, r_ver, r_metrics), (w_in, w_ver, w_metrics) = both_ways(platform)
    assert r_in.calls == w_in.calls
    assert r_in.flags == w_in.flags
    assert r_ver == w_ver
    assert r_metrics == w_metrics
    return w_metrics


def read_from_rollup(platform) -> bool:
    with platform.uow() as uow:
        tz = centre_tz(platform.settings)
        return rollups.covers(uow.session, tz.key, MONTH)


@pytest.fixture
def world(platform):
    people = make_people(platform)
    ids = make_calls(platform, people, 40, flagged_every=3)
    # one call still in the pipeline, started at the end of the month in centre time
    pending = add_call(
        platform,
        people.agents[0],
        people.teams[people.agents[0]],
        status="processing",
        started_at=T0 + timedelta(days=29, hours=14),  # 2026-03-31 23:00 Shanghai
    )
    return platform, people, ids, pending


def test_rollup_is_not_read_before_a_rebuild(world):
    platform, *_ = world
    assert not read_from_rollup(platform)
    rebuild_rollups(platform.uow(), since=date(2026, 3, 5), now=NOW)
    assert not read_from_rollup(platform)  # March 1–4 not counted: the raw query answers
    rebuild_rollups(platform.uow(), now=NOW)
    assert read_from_rollup(platform)


def test_rebuilt_rollup_gives_the_raw_figures(world):
    platform, *_ = world
    result = rebuild_rollups(platform.uow(), now=NOW)
    assert result.days >= 9 and result.call_rows > 0 and result.flag_rows > 0
    centre = assert_same(platform)["centre"]
    assert centre["calls_received"] == 41
    with platform.uow() as uow:
        rows = uow.session.query(DailyCallRollup).all()
        assert sum(r.received for r in rows) == 41


def test_flag_rerun_and_analysis_keep_the_rollup_equal(world):
    platform, _people, ids, pending = world
    rebuild_rollups(platform.uow(), now=NOW)
    before = assert_same(platform)["centre"]
    set_flags(platform, {ids[0]: [], ids[1]: [flag("complaint_risk"), flag("complaint_risk")]})
    after = assert_same(platform)["centre"]
    assert after["flagged_by_type"] != before["flagged_by_type"]
    assert after["flagged_by_type"]["complaint_risk"] == 1
    with platform.uow() as uow:
        assert pipeline_service.mark_analysed(uow.session, pending)
        uow.commit()
    assert assert_same(platform)["centre"]["calls_analysed"] == before["calls_analysed"] + 1
    assert read_from_rollup(platform)


def test_publish_keeps_the_rollup_equal(world):
    platform, _people, _ids, _pending = world
    rebuild_rollups(platform.uow(), now=NOW)
    plan = SamplingPlan("m", size=4, filters=PlanFilters(analysed_only=True))
    evaluations = sample_and_assign(platform, plan, seed=3, exclude_own_team=False)
    for ev in evaluations:
        publish_scored(platform, ev["evaluation_id"], ev["inspector_id"], "sup1", FULL, T0, T0)
    metrics = assert_same(platform)
    assert metrics["centre"]["sample_size"] == 4


def test_rollup_slice_counts_equal_raw_after_many_reruns(world):
    platform, _people, ids, _pending = world
    rebuild_rollups(platform.uow(), now=NOW)
    for n, call_id in enumerate(ids[:12]):
        set_flags(platform, {call_id: [flag("long_silence", rule_set_version=f"v{n % 2 + 1}")]})
    assert_same(platform)
    with platform.uow() as uow:
        tz = centre_tz(platform.settings)
        names = Names.load(uow.session)
        period = period_for("monthly", MONTH)
        assert load_volume(uow.session, period, tz, names)[2] == ["v1", "v2"]


def test_cli_rebuild_reports_and_rejects_bad_dates(world):
    platform, *_ = world
    runner = CliRunner()
    out = runner.invoke(main, ["report", "rollup", "--rebuild", "--json"])
    assert out.exit_code == 0, out.output
    assert '"call_rows"' in out.output
    assert read_from_rollup(platform)
    bad = runner.invoke(main, ["report", "rollup", "--rebuild", "--since", "2026-13-01"])
    assert bad.exit_code != 0 and "2026-13-01" in bad.output
    with pytest.raises(PeriodError, match="1999-12-31"):
        rebuild_rollups(platform.uow(), since=date(1999, 12, 31), now=NOW)


def test_purge_keeps_the_rollup_equal(world):
    platform, people, _ids, _pending = world
    agent = people.agents[1]
    expired = add_call(
        platform,
        agent,
        people.teams[agent],
        started_at=T0 + timedelta(days=3),
        retain_until=T0 + timedelta(days=5),
    )
    set_flags(platform, {expired: [flag("long_silence")]})
    rebuild_rollups(platform.uow(), now=NOW)
    before = assert_same(platform)["centre"]
    purged = retention_service.purge(platform, now=NOW)
    assert [item.call_id for item in purged] == [expired]
    after = assert_same(platform)["centre"]
    assert after["calls_analysed"] == before["calls_analysed"] - 1
    assert after["calls_received"] == before["calls_received"]
