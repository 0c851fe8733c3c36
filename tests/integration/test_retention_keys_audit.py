"""Retention purge, key rotation and the audit chain on the real database and store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from qa_platform.domain.calls import CallMetadata
from qa_platform.services.context import Platform
from qa_platform.services.ingest import ingest_file
from qa_platform.services.keys import key_status, retire, rotate
from qa_platform.services.recordings import RecordingUnavailable, export_audio, read_range
from qa_platform.services.retention import add_retention_class, purge, set_legal_hold
from storage.audit import verify_chain
from storage.keyring import KeyringError
from storage.models import AuditEvent, Call, Recording
from tests.helpers.files import make_audio

NOW = datetime(2030, 6, 1, tzinfo=UTC)


def ingest_at(platform: Platform, tmp_path: Path, started: str, seed: int) -> int:
    path = make_audio(tmp_path / f"c{seed}.wav", seed=seed)
    return ingest_file(platform, path, CallMetadata.parse({"started_at": started})).call_id


def test_retention_is_three_years_and_five_with_a_complaint(
    platform: Platform, tmp_path: Path
) -> None:
    cid = ingest_at(platform, tmp_path, "2026-03-01T10:00:00+00:00", 1)
    with platform.uow() as uow:
        assert uow.session.get(Call, cid).retain_until.year == 2029
    until = add_retention_class(platform, cid, "complaint", actor="sup")
    assert until.year == 2031
    with pytest.raises(Exception, match="unknown retention class"):
        add_retention_class(platform, cid, "forever", actor="sup")


def test_purge_shreds_expired_keeps_held_and_recent(platform: Platform, tmp_path: Path) -> None:
    old = ingest_at(platform, tmp_path, "2026-01-01T00:00:00+00:00", 1)
    held = ingest_at(platform, tmp_path, "2026-01-02T00:00:00+00:00", 2)
    complaint = ingest_at(platform, tmp_path, "2026-01-03T00:00:00+00:00", 3)
    recent = ingest_at(platform, tmp_path, "2028-01-01T00:00:00+00:00", 4)
    set_legal_hold(platform, held, True, actor="legal", reason="诉讼")
    add_retention_class(platform, complaint, "complaint", actor="sup")

    dry = purge(platform, now=NOW, dry_run=True)
    assert [i.call_id for i in dry] == [old] and not dry[0].purged
    read_range(platform, old, 0, 10)  # dry run changed nothing

    done = purge(platform, now=NOW)
    assert [(i.call_id, i.purged) for i in done] == [(old, True)]
    with platform.uow() as uow:
        rec = uow.session.scalar(select(Recording).where(Recording.call_id == old))
        call = uow.session.get(Call, old)
    assert rec.wrapped_key is None and call.status == "purged" and call.purged_at is not None
    assert not platform.store.exists(rec.blob_id)
    with pytest.raises(RecordingUnavailable, match="purged"):
        read_range(platform, old, 0, 10)
    for kept in (held, complaint, recent):
        assert read_range(platform, kept, 0, 4) == b"RIFF"
    assert purge(platform, now=NOW) == []  # nothing left to do


def test_rotation_rewraps_every_key_and_old_kek_can_retire(
    platform: Platform, tmp_path: Path
) -> None:
    ids = [ingest_at(platform, tmp_path, "2026-05-01T00:00:00+00:00", s) for s in range(5)]
    before = {i: read_range(platform, i, 0, 2000) for i in ids}
    old_kek = platform.keyring.active_id
    report = rotate(platform)
    assert report.rewrapped == 5 and report.new_kek_id != old_kek
    status = key_status(platform).to_dict()
    assert {k["id"]: k["recordings"] for k in status["keys"]} == {old_kek: 0, report.new_kek_id: 5}
    retire(platform, old_kek)
    platform.reload_keyring()
    assert {i: read_range(platform, i, 0, 2000) for i in ids} == before


def test_retire_refused_while_a_key_still_wraps_data(platform: Platform, tmp_path: Path) -> None:
    ingest_at(platform, tmp_path, "2026-05-01T00:00:00+00:00", 1)
    ring = platform.reload_keyring()
    old = ring.active_id
    ring.add_active()
    ring.save()
    with pytest.raises(KeyringError, match="still wraps data keys"):
        retire(platform, old)


def test_flipped_byte_in_stored_blob_is_detected_and_no_file_written(
    platform: Platform, tmp_path: Path
) -> None:
    cid = ingest_at(platform, tmp_path, "2026-05-01T00:00:00+00:00", 1)
    with platform.uow() as uow:
        blob_id = uow.session.scalar(select(Recording.blob_id).where(Recording.call_id == cid))
    path = platform.settings.blobs / blob_id[:2] / blob_id[2:4] / blob_id
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    out = tmp_path / "out.wav"
    with pytest.raises(Exception, match="failed authentication"):
        export_audio(platform, cid, out, actor="t")
    assert not out.exists() and not list(tmp_path.glob(".out.wav*"))


def test_audit_chain_verifies_and_reports_an_edited_row(platform: Platform, tmp_path: Path) -> None:
    for s in range(3):
        ingest_at(platform, tmp_path, "2026-05-01T00:00:00+00:00", s)
    with platform.uow() as uow:
        assert verify_chain(uow.session).ok
        assert verify_chain(uow.session).checked == 3
        uow.session.execute(
            update(AuditEvent).where(AuditEvent.seq == 2).values(actor="someone-else")
        )
        uow.commit()
    with platform.uow() as uow:
        report = verify_chain(uow.session)
    assert not report.ok and report.first_broken_seq == 2 and "altered" in report.reason


def test_audit_chain_reports_a_deleted_row(platform: Platform, tmp_path: Path) -> None:
    for s in range(3):
        ingest_at(platform, tmp_path, "2026-05-01T00:00:00+00:00", s)
    with platform.uow() as uow:
        uow.session.execute(text("DELETE FROM audit_events WHERE seq = 2"))
        uow.commit()
        report = verify_chain(uow.session)
    assert not report.ok and report.first_broken_seq == 3 and "missing" in report.reason
