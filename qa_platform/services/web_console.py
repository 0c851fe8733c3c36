"""Supervisor console use cases (质检主管): plans and runs, calibration, configuration versions.

Thin adapters over ``scoring.services`` that add what the pages show (computed sample size on
today's frame, YAML input with validation errors named).
"""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import select

from qa_platform.domain.errors import QaError
from qa_platform.services import flags as flag_service
from qa_platform.services.context import Platform
from qa_platform.services.web_auth import SessionUser
from scoring import services as scoring
from scoring.plan import SamplingPlan
from scoring.scorecard import scorecard_from_mapping
from storage.models import CallFlag
from storage.models_scoring import CalibrationSessionRow, SamplingRunRow, ScorecardRow


class YamlInputError(QaError, ValueError):
    """Uploaded YAML is not a mapping or cannot be parsed."""


def _mapping(text: str, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise YamlInputError(f"{what}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise YamlInputError(f"{what}: expected a mapping of fields, got {type(data).__name__}")
    return data


def save_plan_yaml(platform: Platform, user: SessionUser, text: str) -> dict[str, Any]:
    """Store a sampling plan (抽样方案) from YAML as the next version of its name."""
    data = _mapping(text, "sampling plan")
    data.pop("version", None)
    return scoring.save_plan(platform.uow(), data, actor=user.id)


def plan_overview(platform: Platform) -> dict[str, Any]:
    """Plans with today's frame size and the computed sample size; recent runs."""
    plans = []
    for item in scoring.list_plans(platform.uow()):
        stored = scoring.get_plan(platform.uow(), item["name"])
        plan = SamplingPlan.from_mapping(stored["plan"])
        plans.append(
            {**stored, "frame_size": None, "sample_size": None, "error": ""}
            | _sizes(platform, plan)
        )
    with platform.uow() as uow:
        runs = uow.session.scalars(
            select(SamplingRunRow).order_by(SamplingRunRow.id.desc()).limit(20)
        )
        recent = [
            {
                "id": r.id,
                "plan": r.plan_name,
                "stream": r.stream,
                "method": r.method,
                "frame_size": r.frame_size,
                "sample_size": r.sample_size,
                "seed": r.seed,
                "frame_hash": r.frame_hash,
                "created_at": r.created_at,
            }
            for r in runs
        ]
    return {"plans": plans, "runs": recent}


def _sizes(platform: Platform, plan: SamplingPlan) -> dict[str, Any]:
    if plan.stream.value == "targeted":
        return {}
    uow = platform.uow()
    with uow:
        frame = scoring.load_frame(uow, plan)
    try:
        return {"frame_size": frame.size, "sample_size": plan.resolve_size(frame.size)}
    except QaError as exc:
        return {"frame_size": frame.size, "error": str(exc)}


def run_plan(platform: Platform, user: SessionUser, name: str, seed: str | None) -> int:
    """Run a stored plan; returns the run id."""
    if seed is not None and not seed.strip().isdigit():
        raise YamlInputError(f"seed {seed!r} must be a non-negative whole number")
    result = scoring.run_sampling(
        platform.uow(), name, seed=int(seed) if seed else None, actor=user.id
    )
    return int(result["run_id"])


def run_detail(platform: Platform, run_id: int) -> dict[str, Any]:
    """A run with frame size and hash, seed, method and its calls."""
    return scoring.show_run(platform.uow(), run_id)


def assign_run(platform: Platform, user: SessionUser, run_id: int) -> dict[str, Any]:
    """Assign a run's calls to inspectors (least loaded, not their own team)."""
    scoring.ensure_scorecard(platform.uow())
    return scoring.assign_run(platform.uow(), run_id, actor=user.id)


def calibration_list(platform: Platform) -> list[dict[str, Any]]:
    with platform.uow() as uow:
        rows = uow.session.scalars(
            select(CalibrationSessionRow).order_by(CalibrationSessionRow.id.desc())
        )
        return [
            {
                "id": r.id,
                "name": r.name,
                "calls": r.call_ids,
                "inspectors": r.inspector_ids,
                "status": r.status,
                "created_at": r.created_at,
            }
            for r in rows
        ]


def create_calibration(
    platform: Platform, user: SessionUser, name: str, call_ids: list[int], inspector_ids: list[int]
) -> dict[str, Any]:
    """Open a calibration session (校准) over the same calls."""
    scoring.ensure_scorecard(platform.uow())
    return scoring.create_calibration(platform.uow(), name, call_ids, inspector_ids, actor=user.id)


def calibration_detail(platform: Platform, session_id: int) -> dict[str, Any]:
    """Agreement figures (kappa, ICC) of a session; empty figures until scores exist."""
    with platform.uow() as uow:
        row = uow.session.get(CalibrationSessionRow, session_id)
        if row is None:
            raise scoring.NotFoundError(f"no calibration session {session_id}")
        info = {
            "id": row.id,
            "name": row.name,
            "calls": row.call_ids,
            "inspectors": row.inspector_ids,
        }
    try:
        report = scoring.calibration_report(platform.uow(), session_id)
    except QaError as exc:
        report = {"items": [], "inspectors": [], "error": str(exc)}
    return {"session": info, "report": report}


def config_versions(platform: Platform) -> dict[str, Any]:
    """Scorecard versions and the rule-set versions that produced stored flags."""
    with platform.uow() as uow:
        s = uow.session
        cards = [
            {
                "id": c.id,
                "name": c.name,
                "version": c.version,
                "fingerprint": c.fingerprint,
                "active": c.active,
                "created_at": c.created_at,
            }
            for c in s.scalars(
                select(ScorecardRow).order_by(ScorecardRow.name, ScorecardRow.version)
            )
        ]
        in_use = set(s.scalars(select(CallFlag.rule_set_version).distinct()))
    rule_sets = [
        r | {"in_use": r["version"] in in_use} for r in flag_service.list_rule_sets(platform)
    ]
    active = next((r["version"] for r in rule_sets if r["active"]), None)
    active_yaml = flag_service.show_rule_set(platform, active)["yaml"] if active else ""
    return {"scorecards": cards, "rule_sets": rule_sets, "active_rule_yaml": active_yaml}


def upload_rule_set_yaml(platform: Platform, text: str, actor: str) -> dict[str, Any]:
    """Validate and store a rule set from YAML as the new active version (errors name the key)."""
    return flag_service.import_rule_set_text(platform, text, "rule set form", created_by=actor)


def upload_scorecard_yaml(platform: Platform, text: str) -> dict[str, Any]:
    """Validate and store a scorecard version from YAML (errors name the problem)."""
    card = scorecard_from_mapping(_mapping(text, "scorecard"))
    return scoring.ensure_scorecard(platform.uow(), card)
