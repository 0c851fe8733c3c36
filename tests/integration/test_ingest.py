"""Ingest against the real database and blob store: good, duplicate and bad input."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, text

from qa_platform.domain.calls import CallMetadata
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file, ingest_many, read_manifest
from qa_platform.services.recordings import export_audio, read_range
from storage.models import Call, Recording
from tests.helpers.files import make_audio, wav_with_rate


def counts(platform: Platform) -> tuple[int, int, int]:
    with platform.uow() as uow:
        calls = uow.session.scalar(select(func.count()).select_from(Call))
        recs = uow.session.scalar(select(func.count()).select_from(Recording))
    return calls, recs, len(list(platform.store.ids()))


def test_ingest_stores_encrypted_and_round_trips(platform: Platform, tmp_path: Path) -> None:
    src = make_audio(tmp_path / "客户录音.wav", seconds=3.0, channels=2)
    meta = CallMetadata.parse(
        {
            "agent": "A1",
            "team": "一组",
            "customer_phone": "13812345678",
            "started_at": "2026-01-02T03:04:05+08:00",
        }
    )
    result = ingest_file(platform, src, meta)
    assert result.status == "created"
    with platform.uow() as uow:
        call = uow.session.get(Call, result.call_id)
        rec = uow.session.scalar(select(Recording).where(Recording.call_id == call.id))
    assert (call.channels, call.sample_rate, call.duration_s) == (2, 16000, 3.0)
    assert call.customer_phone_masked == "138****5678"
    assert call.original_filename == "客户录音.wav"
    raw = (platform.settings.blobs / rec.blob_id[:2] / rec.blob_id[2:4] / rec.blob_id).read_bytes()
    assert src.read_bytes()[:64] not in raw  # no plaintext in the store
    out = tmp_path / "out.wav"
    export_audio(platform, call.id, out, actor="t")
    assert out.read_bytes() == src.read_bytes()
    assert read_range(platform, call.id, 1000, 9000) == src.read_bytes()[1000:9000]


def test_same_audio_twice_is_a_duplicate(platform: Platform, tmp_path: Path) -> None:
    src = make_audio(tmp_path / "a.wav")
    copy = tmp_path / "b.wav"
    copy.write_bytes(src.read_bytes())
    first = ingest_file(platform, src, CallMetadata())
    second = ingest_file(platform, copy, CallMetadata())
    assert second.status == "duplicate" and second.call_id == first.call_id
    assert counts(platform) == (1, 1, 1)


@pytest.mark.parametrize("bad", ["empty", "text", "zero_rate", "truncated", "missing", "too_long"])
def test_bad_input_is_rejected_and_nothing_is_stored(
    platform: Platform, tmp_path: Path, bad: str
) -> None:
    path = tmp_path / f"{bad}.wav"
    if bad == "empty":
        path.write_bytes(b"")
    elif bad == "text":
        path.write_text("hello, not audio")
    elif bad == "zero_rate":
        wav_with_rate(path, 0)
    elif bad == "truncated":
        make_audio(path, seconds=2.0)
        path.write_bytes(path.read_bytes()[:20000])
    elif bad == "too_long":
        make_audio(path, seconds=3.0)
        platform.settings = platform.settings.__class__(
            **{**platform.settings.__dict__, "max_duration_s": 2.0}
        )
    result = ingest_file(platform, path, CallMetadata())
    assert result.status == "rejected"
    assert path.name in result.error
    assert counts(platform) == (0, 0, 0)


def test_strict_mode_rejects_unknown_agent(platform: Platform, tmp_path: Path) -> None:
    from dataclasses import replace

    platform.settings = replace(platform.settings, ingest_strict=True)
    result = ingest_file(platform, make_audio(tmp_path / "a.wav"), CallMetadata(agent_code="X9"))
    assert result.status == "rejected" and "unknown agent 'X9'" in result.error
    assert counts(platform) == (0, 0, 0)


def test_database_failure_leaves_no_blob(platform: Platform, tmp_path: Path) -> None:
    """A real database error after the blob is written: the blob is removed again."""
    from storage.db import make_engine

    engine = make_engine(platform.settings.database)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "CREATE FUNCTION qa_fail() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER qa_fail BEFORE INSERT ON recordings "
                    "FOR EACH ROW EXECUTE FUNCTION qa_fail()"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE TRIGGER qa_fail BEFORE INSERT ON recordings "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )
    try:
        with pytest.raises(Exception, match="disk full"):
            ingest_file(platform, make_audio(tmp_path / "a.wav"), CallMetadata())
        assert counts(platform) == (0, 0, 0)
    finally:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "DROP TRIGGER qa_fail"
                    + (" ON recordings" if engine.dialect.name == "postgresql" else "")
                )
            )
            if engine.dialect.name == "postgresql":
                conn.execute(text("DROP FUNCTION qa_fail()"))


def test_manifest_batch_continues_past_bad_rows_and_is_idempotent(
    platform: Platform, tmp_path: Path
) -> None:
    make_audio(tmp_path / "one.wav", seed=1)
    make_audio(tmp_path / "two.wav", seed=2)
    (tmp_path / "bad.wav").write_text("nope")
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "file,agent,team,direction,started_at,external_id\n"
        "one.wav,A1,一组,in,2026-11-01T09:00:00+08:00,E1\n"
        "bad.wav,A1,一组,in,,E2\n"
        "two.wav,A2,二组,sideways,,E3\n"
        ",A2,二组,in,,E4\n"
        "two.wav,A2,二组,out,2026-11-01 10:00,E5\n",
        encoding="utf-8",
    )
    first = ingest_many(platform, read_manifest(manifest))
    assert [r.status for r in first] == ["created", "rejected", "rejected", "rejected", "created"]
    assert "direction 'sideways'" in first[2].error and "m.csv:4" in first[2].error
    assert "m.csv:5: row has no file" in first[3].error
    again = ingest_many(platform, read_manifest(manifest))
    assert [r.status for r in again] == [
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "duplicate",
    ]
    assert counts(platform) == (2, 2, 2)


def test_external_id_reused_with_other_audio_is_rejected(
    platform: Platform, tmp_path: Path
) -> None:
    ingest_file(platform, make_audio(tmp_path / "a.wav", seed=1), CallMetadata(external_id="E1"))
    result = ingest_file(
        platform, make_audio(tmp_path / "b.wav", seed=2), CallMetadata(external_id="E1")
    )
    assert result.status == "rejected" and "external id 'E1' is already used" in result.error
    assert counts(platform) == (1, 1, 1)


def test_start_time_with_an_offset_keeps_its_instant(platform: Platform, tmp_path: Path) -> None:
    """09:15 in Shanghai is 01:15 UTC on both databases (SQLite once stored 09:15 UTC)."""
    from datetime import UTC, datetime

    meta = CallMetadata.parse({"started_at": "2026-11-23T09:15:00+08:00"})
    call_id = ingest_file(platform, make_audio(tmp_path / "a.wav"), meta).call_id
    with platform.uow() as uow:
        started = uow.session.get(Call, call_id).started_at
    assert started == datetime(2026, 11, 23, 1, 15, tzinfo=UTC)
    assert started.tzinfo is not None


def _float_wav(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    data = samples.astype(np.float32).tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = (
        b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_float_wav_of_nan_is_rejected_and_nothing_is_stored(
    platform: Platform, tmp_path: Path
) -> None:
    path = _float_wav(tmp_path / "nan.wav", np.full(8000, np.nan))
    result = ingest_file(platform, path, CallMetadata())
    assert result.status == "rejected" and "not finite" in result.error
    assert counts(platform) == (0, 0, 0)


def test_wav_with_inconsistent_block_align_is_rejected(platform: Platform, tmp_path: Path) -> None:
    path = wav_with_rate(tmp_path / "align.wav", 8000)
    data = bytearray(path.read_bytes())
    data[32:34] = struct.pack("<H", 3)  # block align 3 for 1 channel × 16 bits
    path.write_bytes(bytes(data))
    result = ingest_file(platform, path, CallMetadata())
    assert result.status == "rejected" and "block align 3" in result.error
    assert counts(platform) == (0, 0, 0)


def test_high_rate_many_channel_audio_is_refused_at_ingest(
    platform: Platform, tmp_path: Path
) -> None:
    from qa_platform.demo_audio import write_audio
    from tests.helpers.files import tone

    path = write_audio(tmp_path / "hi.flac", tone(1.0, 96000), 96000, "pcm_s16le")
    result = ingest_file(platform, path, CallMetadata())
    assert result.status == "rejected" and "96000 Hz" in result.error
    assert "QA_MAX_SAMPLE_RATE" in result.error
    assert counts(platform) == (0, 0, 0)
