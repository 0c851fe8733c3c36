"""Configuration versions: scorecards and the rule sets that produced stored flags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from qa_platform.services import flags as flag_service
from qa_platform.services.context import Platform
from scoring.services.business_lines import list_lines
from storage.models import CallFlag
from storage.models_scoring import ScorecardRow


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
    return {
        "scorecards": cards,
        "scorecard_names": sorted({c["name"] for c in cards if c["active"]}),
        "business_lines": list_lines(platform.uow()),
        "rule_sets": rule_sets,
        "active_rule_yaml": active_yaml,
    }
