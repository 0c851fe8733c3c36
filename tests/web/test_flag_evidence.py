"""Flag evidence on the call page: stored as a message key, shown in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime

from qa_platform.flags.messages import render
from storage.models import CallFlag
from tests.web.conftest import as_user

PARAMS = {"last": 30, "tail": "好的，就这样"}


def add_keyed_flag(platform, call_id: int) -> None:
    with platform.uow() as uow:
        uow.session.add(
            CallFlag(
                call_id=call_id,
                type="missing_closing",
                severity="warning",
                role="agent",
                start=20.0,
                end=50.0,
                evidence=render("missing_closing.none", PARAMS, "zh"),
                evidence_key="missing_closing.none",
                evidence_params=PARAMS,
                rule_set_version="2026.12-default-3",
                created_at=datetime.now(UTC),
            )
        )
        uow.commit()


def test_evidence_and_flag_name_follow_the_language(app, world, platform):
    add_keyed_flag(platform, world.call_id)
    sup = as_user(app, "sup")
    html = sup.get(f"/calls/{world.call_id}").get_data(as_text=True)
    assert "坐席最后 30 秒内没有结束语：“好的，就这样”" in html and "缺少结束语" in html
    assert "静音 0.5 秒" in html  # a flag stored before message keys shows its stored text
    sup.client.set_cookie("qa_lang", "en")
    html = sup.get(f"/calls/{world.call_id}").get_data(as_text=True)
    assert "no closing phrase in the last 30 s of agent speech" in html
    assert "Missing closing" in html and "坐席最后" not in html
