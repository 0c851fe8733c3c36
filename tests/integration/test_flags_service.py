"""Flags end to end: real audio features, stored transcripts, rule sets in the database, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import func, select

from qa_platform.cli import main
from qa_platform.cli.flags import flags as flags_group
from qa_platform.demo_audio import (
    SAMPLE_RATE,
    insert_silence,
    read_mono,
    read_rttm,
    sample_files,
    split_by_speaker,
    write_audio,
)
from qa_platform.domain.calls import CallMetadata, Direction
from qa_platform.domain.transcript import AudioFeatures, Role, Segment, Transcript
from qa_platform.flags import default_rule_set, evaluate, rule_set_from_dict
from qa_platform.queries import calls as call_service
from qa_platform.services import flags as service
from qa_platform.services import pipeline as pipeline_service
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from storage.models import CallFlag
from storage.models_pipeline import TranscriptSegment
from tests.helpers.files import make_audio
from workers.audio import decode
from workers.features import compute_features

if flags_group.name not in main.commands:  # the lead registers it; tests must not depend on that
    main.add_command(flags_group)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["flags", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# ----------------------------------------------------------------------------- real audio


@pytest.fixture(scope="module")
def conversation() -> np.ndarray:
    """The pyannote sample conversation laid on two channels (agent left)."""
    files = sample_files()
    return split_by_speaker(read_mono(files.wav), read_rttm(files.rttm))


def features_with_silence(tmp_path: Path, stereo: np.ndarray, seconds: float) -> AudioFeatures:
    """Real features of the conversation with ``seconds`` of silence inserted inside a turn."""
    audio = insert_silence(stereo, 7.0, seconds) if seconds else stereo
    path = write_audio(tmp_path / f"silence_{seconds:g}.wav", audio, SAMPLE_RATE)
    return compute_features(decode(path))


def with_threshold(seconds: float):
    data = default_rule_set().to_dict()
    data["rules"]["long_silence"]["min_silence_s"] = seconds
    return rule_set_from_dict(data)


def long_silences(features: AudioFeatures, rules=None) -> list:
    return [
        f for f in evaluate(None, features, rules or default_rule_set()) if f.type == "long_silence"
    ]


def test_inserted_silence_fires_at_the_threshold_not_below(tmp_path: Path, conversation) -> None:
    features = features_with_silence(tmp_path, conversation, 12.0)
    [flag] = long_silences(features)
    measured = round(flag.end - flag.start, 2)  # 10 ms frames
    assert 11.8 <= measured <= 12.6 and 6.8 <= flag.start <= 7.2
    assert long_silences(features, with_threshold(measured))  # exactly at the threshold
    assert not long_silences(features, with_threshold(measured + 0.01))  # just above it


def test_shorter_inserted_silence_and_plain_conversation_do_not_fire(
    tmp_path: Path, conversation
) -> None:
    assert not long_silences(features_with_silence(tmp_path, conversation, 8.0))
    assert not long_silences(features_with_silence(tmp_path, conversation, 0.0))


def test_duration_rules_on_real_calls(tmp_path: Path, conversation) -> None:
    short = compute_features(
        decode(write_audio(tmp_path / "short.wav", conversation[:, : 8 * SAMPLE_RATE], SAMPLE_RATE))
    )
    assert "ultra_short" in {f.type for f in evaluate(None, short)}
    long_audio = np.concatenate([conversation] * 3, axis=1)
    long_features = compute_features(
        decode(write_audio(tmp_path / "long.wav", long_audio, SAMPLE_RATE))
    )
    data = default_rule_set().to_dict()
    data["rules"]["ultra_long"]["min_duration_s"] = 60
    types = {f.type for f in evaluate(None, long_features, rule_set_from_dict(data))}
    assert "ultra_long" in types and "ultra_short" not in types


def test_call_of_pure_silence_is_flagged_and_has_no_transcript(
    tmp_path: Path, platform: Platform
) -> None:
    path = write_audio(
        tmp_path / "silent.wav", np.zeros((2, 40 * SAMPLE_RATE), np.float32), SAMPLE_RATE
    )
    call_id = ingest_file(platform, path, CallMetadata()).call_id
    with platform.uow() as uow:
        pipeline_service.save_features(uow.session, call_id, "1", compute_features(decode(path)))
        uow.commit()
    flags = service.compute_flags(platform, call_id)
    assert sorted(f.type for f in flags) == ["long_silence", "silence_ratio"]
    shown = call_service.show_call(platform, call_id)
    assert shown["segments"] == [] and sorted(f["type"] for f in shown["flags"]) == [
        "long_silence",
        "silence_ratio",
    ]


# ----------------------------------------------------------------------------- stored calls

GREETING = "您好，这里是安心保险服务专线，我是坐席小王，工号三八二一，请问有什么可以帮您"


def transcript(customer_says: str) -> Transcript:
    return Transcript(
        [
            Segment("A", Role.AGENT, 0.5, 8.0, GREETING),
            Segment("C", Role.CUSTOMER, 8.5, 12.0, customer_says),
            Segment("A", Role.AGENT, 12.5, 16.0, "好的，已经为您记录，感谢您的来电，再见"),
        ]
    )


def stored_call(
    platform: Platform,
    tmp_path: Path,
    seed: int,
    customer_says: str,
    *,
    started: str = "2026-11-20T10:00:00",
    direction: str = "in",
) -> int:
    path = make_audio(tmp_path / f"c{seed}.wav", seconds=2.0, channels=2, seed=seed)
    meta = CallMetadata(
        started_at=datetime.fromisoformat(started).replace(tzinfo=UTC),
        direction=Direction(direction),
    )
    call_id = ingest_file(platform, path, meta).call_id
    with platform.uow() as uow:
        pipeline_service.save_transcript(
            uow.session,
            call_id,
            transcript=transcript(customer_says),
            model="fixture",
            model_version="fixture-1",
            version="1",
        )
        pipeline_service.save_features(uow.session, call_id, "1", AudioFeatures(duration_s=60.0))
        pipeline_service.mark_analysed(uow.session, call_id)
        uow.commit()
    return call_id


def flag_rows(platform: Platform, call_id: int) -> list[tuple[str, str]]:
    with platform.uow() as uow:
        rows = uow.session.scalars(
            select(CallFlag).where(CallFlag.call_id == call_id).order_by(CallFlag.start)
        )
        return [(r.type, r.rule_set_version) for r in rows]


def test_compute_flags_stores_them_and_call_show_lists_them(
    platform: Platform, tmp_path: Path
) -> None:
    call_id = stored_call(platform, tmp_path, 1, "我要打12378投诉你们")
    service.compute_flags(platform, call_id)
    service.compute_flags(platform, call_id)  # twice: replaced, not duplicated
    version = default_rule_set().version
    assert flag_rows(platform, call_id) == [
        ("complaint_risk", version),
        ("complaint_risk", version),
    ]
    [first, _] = call_service.show_call(platform, call_id)["flags"]
    assert first["type"] == "complaint_risk" and first["role"] == "customer"
    assert first["severity"] == "critical" and "12378" in first["evidence"]
    assert 8.5 <= first["start"] < first["end"] <= 12.0


def test_unknown_call_is_a_clear_error(platform: Platform) -> None:
    with pytest.raises(service.CallNotFound, match="no call 999"):
        service.compute_flags(platform, 999)


def edited_rules(tmp_path: Path, version: str, **changes: object) -> Path:
    data = default_rule_set().to_dict()
    data["version"] = version
    for dotted, value in changes.items():
        rule, param = dotted.split("__")
        data["rules"][rule][param] = value
    path = tmp_path / f"{version}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_rerun_with_new_rules_recomputes_without_retranscribing(
    platform: Platform, tmp_path: Path
) -> None:
    old = stored_call(platform, tmp_path, 2, "我要投诉", started="2026-11-01T09:00:00")
    new = stored_call(platform, tmp_path, 3, "我要投诉", started="2026-11-21T09:00:00")
    first = service.rerun(platform)
    assert (first.calls, first.flags) == (2, 2)
    with platform.uow() as uow:
        segments_before = uow.session.scalar(select(func.count()).select_from(TranscriptSegment))
    service.import_rule_set(
        platform,
        edited_rules(
            tmp_path, "strict-1", complaint_risk__enabled=False, ultra_long__min_duration_s=60
        ),
    )
    result = service.rerun(platform, since=datetime(2026, 11, 15, tzinfo=UTC))
    assert (result.rule_set_version, result.calls) == ("strict-1", 1)
    assert flag_rows(platform, new) == [("ultra_long", "strict-1")]
    assert flag_rows(platform, old) == [
        ("complaint_risk", default_rule_set().version)
    ]  # before --since
    back = service.rerun(platform, rules_version=default_rule_set().version)
    assert back.calls == 2 and flag_rows(platform, new) == [
        ("complaint_risk", default_rule_set().version)
    ]
    with platform.uow() as uow:
        assert (
            uow.session.scalar(select(func.count()).select_from(TranscriptSegment))
            == segments_before
        )


def test_rule_set_import_validates_and_keeps_versions(platform: Platform, tmp_path: Path) -> None:
    bad = edited_rules(tmp_path, "bad-1", long_silence__min_silence_s=-3)
    with pytest.raises(
        service.RuleSetInvalid,
        match=r"bad-1\.yaml: rules\.long_silence\.min_silence_s: must be ≥ 0",
    ):
        service.import_rule_set(platform, bad)
    service.import_rule_set(platform, edited_rules(tmp_path, "v2", long_silence__min_silence_s=8))
    service.import_rule_set(
        platform, edited_rules(tmp_path, "v2", long_silence__min_silence_s=8)
    )  # same: fine
    with pytest.raises(service.RuleSetInvalid, match="'v2' already exists with different content"):
        service.import_rule_set(
            platform, edited_rules(tmp_path, "v2", long_silence__min_silence_s=9)
        )
    service.import_rule_set(
        platform, edited_rules(tmp_path, "v3", long_silence__min_silence_s=7), activate=False
    )
    listed = service.list_rule_sets(platform)
    assert [(r["version"], r["active"]) for r in listed] == [
        (default_rule_set().version, False),
        ("v2", True),
        ("v3", False),
    ]
    service.activate_rule_set(platform, "v3")
    with platform.uow() as uow:
        assert (
            service.active_rule_set(uow.session).resolve("in")["long_silence"]["min_silence_s"] == 7
        )
    with pytest.raises(service.RuleSetNotFound, match="'v9'"):
        service.rerun(platform, rules_version="v9")


def test_list_flagged_by_type_and_date(platform: Platform, tmp_path: Path) -> None:
    complaint = stored_call(platform, tmp_path, 4, "我要找媒体曝光", started="2026-11-22T08:00:00")
    stored_call(platform, tmp_path, 5, "谢谢，没有问题了", started="2026-11-22T09:00:00")
    old = stored_call(platform, tmp_path, 6, "我要投诉", started="2026-10-01T09:00:00")
    service.rerun(platform)
    found = service.list_flagged(
        platform, flag_type="complaint_risk", since=datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert [c["call_id"] for c in found] == [complaint]
    assert {f["type"] for f in found[0]["flags"]} == {"complaint_risk"}
    assert [c["call_id"] for c in service.list_flagged(platform, flag_type="complaint_risk")] == [
        complaint,
        old,
    ]
    with pytest.raises(service.FlagTypeUnknown, match="unknown flag type 'nope'"):
        service.list_flagged(platform, flag_type="nope")


# ----------------------------------------------------------------------------- CLI


def test_cli_rerun_list_and_rules(platform: Platform, tmp_path: Path) -> None:
    call_id = stored_call(
        platform, tmp_path, 7, "我要去银保监会投诉", started="2026-11-23T10:00:00"
    )
    code, out, _ = cli("rerun", "--since", "2026-11-01", "--json")
    assert code == 0
    assert json.loads(out) | {"seconds": 0} == {
        "rule_set_version": default_rule_set().version,
        "calls": 1,
        "flags": 2,
        "seconds": 0,
    }
    code, out, _ = cli("list", "--type", "complaint_risk", "--since", "2026-11-01", "--json")
    [row] = json.loads(out)
    assert code == 0 and row["call_id"] == call_id
    assert {"type", "severity", "role", "start", "end", "evidence"} <= set(row["flags"][0])
    code, out, _ = cli(
        "rules",
        "import",
        str(edited_rules(tmp_path, "cli-1", ultra_short__max_duration_s=3)),
        "--json",
    )
    assert code == 0 and json.loads(out)["active"] is True
    code, out, _ = cli("rules", "list", "--json")
    assert [r["version"] for r in json.loads(out) if r["active"]] == ["cli-1"]
    code, out, _ = cli("rules", "show", "cli-1")
    assert code == 0 and yaml.safe_load(out)["rules"]["ultra_short"]["max_duration_s"] == 3


def test_cli_errors_name_the_problem(platform: Platform, tmp_path: Path) -> None:
    code, _, err = cli(
        "rules", "import", str(edited_rules(tmp_path, "bad-2", speech_rate__min_cpm=500))
    )
    assert code == 2 and "rules.speech_rate.min_cpm: 500 is above speech_rate.max_cpm=150" in err
    code, _, err = cli("rerun", "--rules", "nope")
    assert code == 2 and "no rule set with version 'nope'" in err
    code, _, err = cli("list", "--type", "nope")
    assert code == 2 and "unknown flag type 'nope'" in err
