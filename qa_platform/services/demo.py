"""The main job on the embedded default: set up, build demo calls, ingest them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from qa_platform.demo_audio import DEMO_CALLS, build_demo_calls
from qa_platform.services.bootstrap import initialise
from qa_platform.services.context import Platform
from qa_platform.services.ingest import IngestResult, ingest_many, read_manifest
from qa_platform.services.users import add_user
from storage.models import User


def ensure_demo_agents(platform: Platform) -> None:
    """One agent account per demo agent code, in the call's team (idempotent)."""
    with platform.uow() as uow:
        known = set(uow.session.scalars(select(User.agent_code)).all())
    for row in DEMO_CALLS:
        code, team = row[1], row[2]
        if code not in known:
            add_user(platform, f"agent_{code.lower()}", "agent", team=team, agent_code=code,
                     display_name=f"客服{code}", actor="demo")
            known.add(code)


def run_demo(platform: Platform) -> list[IngestResult]:
    initialise(platform)
    ensure_demo_agents(platform)
    manifest = build_demo_calls(Path(platform.settings.home) / "demo")
    return ingest_many(platform, read_manifest(manifest), actor="demo")
