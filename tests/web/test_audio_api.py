"""Audio Range requests against the original file; the REST API with tokens; upload limits."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from qa_platform.services.auth import create_token
from storage.models import AuditEvent, Call
from tests.web.conftest import as_user
from web import create_app


def _plays(platform) -> int:
    with platform.uow() as uow:
        return uow.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "call.audio_play")
        )


def test_range_requests_return_the_original_bytes(app, world, platform):
    original = world.audio_path.read_bytes()
    b = as_user(app, "insp")
    url = f"/calls/{world.call_id}/audio"
    r = b.get(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.data == original[:100]
    assert r.headers["Content-Range"] == f"bytes 0-99/{len(original)}"
    assert r.headers["Cache-Control"] == "no-store" and r.mimetype == "audio/wav"
    r = b.get(url, headers={"Range": "bytes=10000-"})  # seeking to the middle
    assert r.status_code == 206 and r.data == original[10000:]
    r = b.get(url, headers={"Range": "bytes=-500"})
    assert r.data == original[-500:]
    r = b.get(url, headers={"Range": "bytes=5000-5099"})  # crosses a 4 KiB chunk boundary
    assert r.data == original[5000:5100]


def test_bad_ranges_are_416(app, world):
    b = as_user(app, "insp")
    url = f"/calls/{world.call_id}/audio"
    size = world.audio_path.stat().st_size
    assert b.get(url, headers={"Range": f"bytes={size}-"}).status_code == 416
    assert b.get(url, headers={"Range": "bytes=abc"}).status_code == 416
    assert b.get(url, headers={"Range": "bytes=50-10"}).status_code == 416


def test_one_audit_event_per_playback_not_per_range(app, world, platform):
    b = as_user(app, "insp")
    url = f"/calls/{world.call_id}/audio"
    before = _plays(platform)
    b.get(url, headers={"Range": "bytes=0-"})
    for start in (1000, 20000, 30000):
        b.get(url, headers={"Range": f"bytes={start}-"})
    assert _plays(platform) == before + 1


def test_seek_without_a_start_still_audits_once(app, world, platform):
    b = as_user(app, "sup")
    url = f"/calls/{world.call_id}/audio"
    before = _plays(platform)
    b.get(url, headers={"Range": "bytes=20000-"})  # no request from byte 0 first
    b.get(url, headers={"Range": "bytes=30000-"})
    assert _plays(platform) == before + 1


def test_download_is_audited_and_complete(app, world, platform):
    b = as_user(app, "sup")
    r = b.get(f"/calls/{world.call_id}/audio?download=1")
    assert r.status_code == 200 and r.data == world.audio_path.read_bytes()
    with platform.uow() as uow:
        assert uow.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "call.audio_download")
        )


def test_waveform_peaks(app, world):
    b = as_user(app, "insp")
    peaks = b.get(f"/calls/{world.call_id}/waveform.json").get_json()["peaks"]
    assert len(peaks) == 600 and max(peaks) == 1.0 and min(peaks) > 0.1


def test_api_token_reads_call_transcript_and_flags(app, world, platform):
    token = create_token(platform, "sup", "test")
    h = {"Authorization": f"Bearer {token}"}
    c = app.test_client()
    assert c.get(f"/api/v1/calls/{world.call_id}", headers=h).get_json()["status"] == "analysed"
    segs = c.get(f"/api/v1/calls/{world.call_id}/transcript", headers=h).get_json()["segments"]
    assert segs[0]["role"] == "agent" and "工号" in segs[0]["text"]
    flags = c.get(f"/api/v1/calls/{world.call_id}/flags", headers=h).get_json()["flags"]
    assert flags[0]["type"] == "long_silence"
    ev = c.get(f"/api/v1/evaluations/{world.evaluation_id}", headers=h).get_json()
    assert ev["state"] == "assigned"
    r = c.get("/api/v1/calls/1", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "token" in r.get_json()["error"]


def test_api_agent_token_cannot_read_other_calls(app, world, platform):
    h = {"Authorization": f"Bearer {create_token(platform, 'agent2')}"}
    r = app.test_client().get(f"/api/v1/calls/{world.call_id}", headers=h)
    assert r.status_code == 404 and r.get_json()["error"]


def test_api_upload_creates_call_and_rejects_bad_input(app, world, platform):
    token = create_token(platform, "sup", scopes=("read", "write"))  # uploads need write
    h = {"Authorization": f"Bearer {token}"}
    c = app.test_client()
    data = world.audio_path.read_bytes()
    from tests.factories import tone_wav as _tone_call

    silence_free = _tone_call(world.audio_path.with_name("new.wav"), 5.0, 440.0).read_bytes()
    r = c.post(
        "/api/v1/calls",
        headers=h,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(silence_free), "客户录音.wav"), "agent": "A001", "team": "一组"},
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["file"] == "客户录音.wav"
    with platform.uow() as uow:  # the user's name is kept as metadata, not the temp file's
        stored = uow.session.get(Call, r.get_json()["call_id"]).original_filename
    assert stored == "客户录音.wav"
    r = c.post(
        "/api/v1/calls", headers=h, content_type="multipart/form-data", data={"agent": "A001"}
    )
    assert r.status_code == 400 and "'file'" in r.get_json()["error"]
    r = c.post(
        "/api/v1/calls",
        headers=h,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"not audio"), "x.wav")},
    )
    assert r.status_code == 400 and r.get_json()["error"].startswith("x.wav")
    r = c.post(
        "/api/v1/calls",
        headers=h,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(data), "x.wav"), "direction": "sideways"},
    )
    assert r.status_code == 400 and "direction" in r.get_json()["error"]
    r = c.post(
        "/api/v1/calls",
        headers=h,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(data), "x.wav"), "colour": "red"},
    )
    assert r.status_code == 400 and "colour" in r.get_json()["error"]
    with platform.uow() as uow:
        assert uow.session.scalar(select(func.count(Call.id))) == 3


def test_api_oversize_upload_is_413_json(world, platform):
    app = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 1000})
    app.extensions["qa_platform"] = platform
    h = {"Authorization": f"Bearer {create_token(platform, 'sup')}"}
    r = app.test_client().post(
        "/api/v1/calls",
        headers=h,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"x" * 5000), "big.wav")},
    )
    assert r.status_code == 413 and "larger than the limit" in r.get_json()["error"]


def test_security_headers_and_cookie_flags(app, world):
    b = as_user(app, "insp")
    r = b.get("/queue")
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    r = app.test_client().get("/login")
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_idle_timeout_signs_out(app, world):
    b = as_user(app, "insp")
    with b.client.session_transaction() as sess:
        sess["seen"] = sess["seen"] - 31 * 60
    assert b.get("/queue").status_code == 302


def test_concurrent_playback_audits_all_land_and_chain_verifies(world, platform):
    import threading

    from qa_platform.services.media import audit_playback
    from storage.audit import verify_chain

    before = _plays(platform)
    errors: list[Exception] = []

    def play(t: int) -> None:
        for n in range(10):
            try:  # distinct actors: one actor's plays are deduplicated (test_sec_playback)
                audit_playback(platform, f"user:{t}-{n}", world.call_id)
            except Exception as exc:
                errors.append(exc)

    threads = [threading.Thread(target=play, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and _plays(platform) == before + 60
    with platform.uow() as uow:
        assert verify_chain(uow.session).ok


def _big_call(platform, tmp_path, seconds: float = 160.0) -> tuple[int, bytes]:
    """A recording over 4 MiB (the old one-response cap): 160 s of 16 kHz 16-bit PCM."""
    from qa_platform.domain.calls import CallMetadata
    from qa_platform.services.ingest import ingest_file
    from tests.helpers.files import make_audio

    path = make_audio(tmp_path / "big.wav", seconds=seconds, seed=7)
    result = ingest_file(platform, path, CallMetadata())
    assert result.status == "created", result.error
    return result.call_id, path.read_bytes()


def test_audio_without_range_is_the_whole_file(app, world, platform, tmp_path):
    call_id, original = _big_call(platform, tmp_path)
    assert len(original) > 4 * 1024 * 1024
    r = as_user(app, "admin").get(f"/calls/{call_id}/audio")
    assert r.status_code == 200 and "Content-Range" not in r.headers
    assert int(r.headers["Content-Length"]) == len(original)
    assert r.data == original


def test_unsatisfiable_range_says_the_size(app, world):
    b = as_user(app, "insp")
    size = world.audio_path.stat().st_size
    r = b.get(f"/calls/{world.call_id}/audio", headers={"Range": f"bytes={size}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{size}"


def test_absurd_range_numbers_are_416_not_500(app, world):
    b = as_user(app, "insp")
    url = f"/calls/{world.call_id}/audio"
    size = world.audio_path.stat().st_size
    for header in (
        "bytes=" + "9" * 4300 + "-",
        "bytes=0-" + "9" * 4300,
        f"bytes={2**63}-",
        "bytes=-" + "1" * 4300,
    ):
        r = b.get(url, headers={"Range": header})
        assert r.status_code == 416, header[:30]
        assert r.headers["Content-Range"] == f"bytes */{size}"


def test_a_purged_recording_is_no_longer_drawn_though_its_waveform_was_cached(app, world, platform):
    """The waveform cache is keyed by the recording's blob, looked up (and checked) first: a
    crypto-shredded call answers 404, and a call id reused by another database is not served
    the old call's peaks."""
    from datetime import UTC, datetime

    from qa_platform.services.retention import purge

    b = as_user(app, "insp")
    url = f"/calls/{world.call_id}/waveform.json"
    assert len(b.get(url).get_json()["peaks"]) == 600  # now cached
    purge(platform, now=datetime(2100, 1, 1, tzinfo=UTC), actor="test")
    assert b.get(url).status_code == 404
