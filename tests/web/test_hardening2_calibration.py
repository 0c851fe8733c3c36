"""A calibration session cannot widen anyone's reach: participants are inspectors and a team
supervisor may only use their own team's calls."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models_scoring import CalibrationSessionRow
from tests.web.conftest import as_user


def _sessions(platform) -> int:
    with platform.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(CalibrationSessionRow))


def test_team_supervisor_cannot_calibrate_other_teams_calls_or_agents(app, world, platform):
    ids = world.ids
    teamsup = as_user(app, "teamsup")  # supervisor of 二组; world.call_id belongs to 一组
    bad = [
        {"call_ids": str(world.call_id), "inspector_ids": [ids["insp"], ids["insp2"]]},
        {"call_ids": str(world.other_call_id), "inspector_ids": [ids["agent2"], ids["agent"]]},
        {"call_ids": str(world.other_call_id), "inspector_ids": [ids["insp"], ids["sup"]]},
        {"call_ids": str(world.other_call_id), "inspector_ids": [ids["insp"], 999]},
    ]
    for form in bad:
        r = teamsup.post("/calibration", {"name": "x", **form})
        assert r.status_code == 303
    assert _sessions(platform) == 0
    # agents never reached the call through a session
    assert as_user(app, "agent").get(f"/api/v1/calls/{world.other_call_id}").status_code == 404
    ok = {"call_ids": str(world.other_call_id), "inspector_ids": [ids["insp"], ids["insp2"]]}
    assert teamsup.post("/calibration", {"name": "ok", **ok}).status_code == 303
    assert _sessions(platform) == 1
