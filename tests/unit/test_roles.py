"""Roles: channel map for stereo, cue phrases (data file) for mono."""

from __future__ import annotations

import pytest

from qa_platform.domain.transcript import Role
from workers.roles import (
    RoleCuesError,
    default_cues,
    parse_cues,
    roles_from_channels,
    roles_from_cues,
)


def _by_speaker(result: list) -> dict:
    return {r.speaker: r for r in result}


def test_stereo_roles_come_from_the_channel_map() -> None:
    roles = _by_speaker(roles_from_channels(2, agent_channel=1))
    assert (roles["agent"].channel, roles["customer"].channel) == (1, 0)
    assert roles["agent"].confidence == roles["customer"].confidence == 1.0


def test_greeting_agent_id_and_closing_make_the_agent() -> None:
    roles = _by_speaker(
        roles_from_cues(
            [
                ("B", 0.5, "喂，你好"),
                ("A", 1.0, "您好，平安保险客服中心，工号三六五二，很高兴为您服务"),
                ("B", 4.0, "我想问一下我的保单"),
                ("A", 80.0, "感谢您的来电，祝您生活愉快"),
            ]
        )
    )
    assert roles["A"].role == Role.AGENT and roles["B"].role == Role.CUSTOMER
    assert 0.9 < roles["A"].confidence <= 0.98
    assert {"greeting_company", "agent_id", "closing"} <= set(roles["A"].evidence)
    assert "customer_ask" in roles["B"].evidence


def test_english_cues() -> None:
    roles = _by_speaker(
        roles_from_cues(
            [("s1", 0.0, "Hello?"), ("s2", 1.0, "Thank you for calling, how can I help you?")]
        )
    )
    assert roles["s2"].role == Role.AGENT and roles["s1"].role == Role.CUSTOMER


def test_weak_evidence_gives_lower_confidence() -> None:
    strong = roles_from_cues([("a", 0.0, "您好，很高兴为您服务，工号1234"), ("b", 2.0, "嗯")])
    weak = roles_from_cues([("a", 0.0, "工号"), ("b", 2.0, "嗯")])
    assert strong[0].confidence > weak[0].confidence > 0.5


def test_without_cues_the_first_speaker_is_the_agent_with_low_confidence() -> None:
    roles = _by_speaker(roles_from_cues([("y", 3.0, "好"), ("x", 1.0, "嗯")]))
    assert roles["x"].role == Role.AGENT and roles["x"].confidence == pytest.approx(0.55)
    assert roles["y"].role == Role.CUSTOMER


def test_cue_file_loads_and_bad_entries_are_named() -> None:
    assert len(default_cues().cues) >= 8
    with pytest.raises(RoleCuesError, match="role cue #0"):
        parse_cues({"cues": [{"name": "x", "role": "boss", "weight": 1, "pattern": "a"}]})
    with pytest.raises(RoleCuesError, match="#0"):
        parse_cues({"cues": [{"name": "x", "role": "agent", "weight": 1, "pattern": "("}]})
    with pytest.raises(RoleCuesError, match="no cues"):
        parse_cues({})
