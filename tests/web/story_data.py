"""The story's world built through the services: users, one real call with a transcript and
flags, a sampling run assigned to the first inspector (used by web tests and the e2e story)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from qa_platform.demo_audio import write_audio
from qa_platform.domain.calls import CallMetadata
from qa_platform.domain.transcript import Role, Segment, Transcript
from qa_platform.services import pipeline
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.users import add_user
from scoring import services as scoring
from storage.models import CallFlag

PASSWORD = "pw-" + "secret1"
USERS = [  # username, role, team, agent code
    ("admin", "admin", None, None),
    ("sup", "supervisor", None, None),
    ("sup2", "supervisor", None, None),
    ("insp", "inspector", "质检组", None),
    ("insp2", "inspector", "质检组", None),
    ("agent", "agent", "一组", "A001"),
    ("agent2", "agent", "二组", "A002"),
    ("teamsup", "supervisor", "二组", None),
]
LINES = [
    (0.0, 3.0, Role.AGENT, "您好，平安保险，工号1234，请问有什么可以帮您？"),
    (3.2, 6.5, Role.CUSTOMER, "我想查询一下我的保单理赔进度。"),
    (6.8, 10.0, Role.AGENT, "好的，请提供保单号后六位和身份证后四位。"),
    (10.5, 14.0, Role.CUSTOMER, "保单号后六位是＊＊＊＊＊＊。"),
    (14.5, 19.5, Role.AGENT, "感谢您的来电，祝您生活愉快，再见。"),
]


@dataclass
class StoryWorld:
    ids: dict[str, int]
    call_id: int
    other_call_id: int
    evaluation_id: int
    audio_path: Path


def _tone_call(path: Path, seconds: float, freq: float) -> Path:
    rate = 8000
    t = np.arange(int(rate * seconds)) / rate
    audio = 0.3 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t))
    write_audio(path, audio.astype(np.float32), rate, "pcm_s16le")
    return path


def _analyse(platform: Platform, call_id: int) -> None:
    segments = [
        Segment("S0" if r is Role.AGENT else "S1", r, a, b, text) for a, b, r, text in LINES
    ]
    with platform.uow() as uow:
        pipeline.save_transcript(
            uow.session,
            call_id,
            transcript=Transcript(segments, "zh", "demo"),
            model="demo",
            model_version="demo-1",
            version="demo",
        )
        pipeline.mark_analysed(uow.session, call_id)
        uow.session.add(
            CallFlag(
                call_id=call_id,
                type="long_silence",
                severity="warning",
                role="both",
                start=9.9,
                end=10.5,
                evidence="静音 0.5 秒",
                rule_set_version="2026.11-1",
                created_at=datetime.now(UTC),
            )
        )
        uow.commit()


def build_world(platform: Platform, tmp: Path) -> StoryWorld:
    ids = {
        u: add_user(
            platform, u, role, team=team, agent_code=code, password=PASSWORD, display_name=u
        ).id
        for u, role, team, code in USERS
    }
    started = datetime.now(UTC) - timedelta(days=1)
    call_ids = []
    for n, (code, team) in enumerate((("A001", "一组"), ("A002", "二组"))):
        wav = _tone_call(tmp / f"call{n}.wav", 20.0, 220.0 + 110 * n)
        res = ingest_file(
            platform,
            wav,
            CallMetadata(agent_code=code, team=team, started_at=started, business_type="理赔查询"),
        )
        assert res.call_id is not None, res.error
        _analyse(platform, res.call_id)
        call_ids.append(res.call_id)
    scoring.ensure_scorecard(platform.uow())
    scoring.save_plan(
        platform.uow(),
        {
            "name": "story",
            "stream": "random",
            "method": "simple_random",
            "size": 1,
            "filters": {"agent_ids": [ids["agent"]]},
        },
        actor=ids["sup"],
    )
    run = scoring.run_sampling(platform.uow(), "story", seed=7, actor=ids["sup"])
    assigned = scoring.assign_run(
        platform.uow(), run["run_id"], actor=ids["sup"], inspector_ids=[ids["insp"]]
    )
    assert assigned["assigned"], assigned
    evaluation_id = scoring.list_evaluations(platform.uow(), inspector=ids["insp"])[0][
        "evaluation_id"
    ]
    return StoryWorld(ids, call_ids[0], call_ids[1], evaluation_id, tmp / "call0.wav")
