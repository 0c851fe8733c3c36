"""The upload page (录音上传): files go through the one ingest service and each answers with
its result; rejections carry a reason code and a Chinese label; only supervisors and admins."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import AuditEvent, Call
from tests.factories import tone_wav
from tests.web.conftest import Browser, as_user


def _post_file(b: Browser, data: bytes, name: str, **fields: str):
    form = {"file": (io.BytesIO(data), name), **fields}
    return b.client.post(
        "/upload/file",
        data=form,
        headers={"X-CSRF-Token": b.csrf()},
        content_type="multipart/form-data",
    )


def _wav(tmp_path: Path, seconds: float = 3.0, freq: float = 440.0) -> bytes:
    return tone_wav(tmp_path / f"t{seconds}-{freq}.wav", seconds, freq).read_bytes()


def test_the_page_offers_files_manifest_and_metadata_in_chinese(app, world):
    html = as_user(app, "sup").get("/upload").get_data(as_text=True)
    assert "上传录音" in html and 'id="upload-files"' in html and "multiple" in html
    for field in ("agent", "team", "direction", "business_type", "agent_channel"):
        assert f'name="{field}"' in html
    labels = json.loads(html.split('id="upload-labels">')[1].split("</script>")[0])
    assert "格式不支持" in labels["reason_format"] and labels["created"] == "已入库"
    assert "upload.js" in html and "<script>" not in html


def test_an_upload_creates_the_call_with_its_metadata(app, world, platform, tmp_path):
    sup = as_user(app, "sup")
    resp = _post_file(
        sup,
        _wav(tmp_path),
        "录音一.wav",
        agent="A001",
        team="一组",
        direction="out",
        business_type="理赔查询",
        agent_channel="1",
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "created" and body["file"] == "录音一.wav"
    with platform.uow() as uow:
        call = uow.session.get(Call, body["call_id"])
        assert (call.agent_code, call.direction, call.business_type, call.agent_channel) == (
            "A001",
            "out",
            "理赔查询",
            1,
        )
        assert call.original_filename == "录音一.wav"
        audit = uow.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "call.ingest", AuditEvent.object_id == str(call.id)
            )
        )
        assert audit.actor == f"user:{world.ids['sup']}"


def test_the_same_audio_twice_is_reported_as_the_existing_call(app, world, tmp_path):
    sup = as_user(app, "sup")
    data = _wav(tmp_path, 2.5, 550.0)
    first = _post_file(sup, data, "a.wav").get_json()
    again = _post_file(sup, data, "b.wav")
    assert again.status_code == 200
    assert again.get_json()["status"] == "duplicate"
    assert again.get_json()["call_id"] == first["call_id"]


@pytest.mark.parametrize(
    ("data", "reason", "label"),
    [
        (b"this is not audio at all" * 10, "format", "格式不支持"),
        (b"", "empty", "文件为空"),
    ],
)
def test_a_bad_file_is_rejected_with_the_reason_in_chinese(app, world, data, reason, label):
    resp = _post_file(as_user(app, "sup"), data, "坏文件.wav")
    assert resp.status_code == 400
    body = resp.get_json()
    assert (body["status"], body["reason"], body["call_id"]) == ("rejected", reason, None)
    assert label in body["reason_label"] and "坏文件.wav" in body["error"]


def test_a_recording_over_the_duration_limit_is_rejected_as_too_long(app, world, tmp_path):
    from dataclasses import replace

    platform = app.extensions["qa_platform"]
    platform.settings = replace(platform.settings, max_duration_s=2.0, min_duration_s=0.1)
    body = _post_file(as_user(app, "admin"), _wav(tmp_path, 4.0), "长.wav").get_json()
    assert (body["status"], body["reason"]) == ("rejected", "too_long")
    assert "过长" in body["reason_label"]


def test_bad_metadata_is_rejected_naming_the_field(app, world, tmp_path):
    body = _post_file(as_user(app, "sup"), _wav(tmp_path), "x.wav", direction="sideways")
    assert body.status_code == 400
    got = body.get_json()
    assert got["reason"] == "metadata" and "direction" in got["error"]
    assert "通话信息" in got["reason_label"]


def test_a_body_over_the_upload_limit_is_refused(app, world, tmp_path):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    resp = _post_file(as_user(app, "sup"), _wav(tmp_path), "big.wav")
    assert resp.status_code == 413


def test_a_manifest_is_parsed_into_rows_by_file_name(app, world):
    text = "file,agent,direction\nsub/a.wav,A001,in\nb.wav,A002,sideways\n,A001,in\n"
    b = as_user(app, "sup")
    resp = b.client.post(
        "/upload/manifest",
        data={"manifest": (io.BytesIO(text.encode()), "清单.csv")},
        headers={"X-CSRF-Token": b.csrf()},
        content_type="multipart/form-data",
    )
    rows = resp.get_json()["rows"]
    assert [r["file"] for r in rows] == ["a.wav", "b.wav", ""]
    assert rows[0]["fields"] == {"agent": "A001", "direction": "in"} and rows[0]["error"] is None
    assert "direction" in rows[1]["error"] and "no file" in rows[2]["error"]


def test_a_manifest_with_unknown_columns_is_refused_in_chinese(app, world):
    b = as_user(app, "sup")
    resp = b.client.post(
        "/upload/manifest",
        data={"manifest": (io.BytesIO(b"file,colour\na.wav,red\n"), "m.csv")},
        headers={"X-CSRF-Token": b.csrf()},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400
    assert "清单无法使用" in resp.get_json()["error"] and "colour" in resp.get_json()["error"]


@pytest.mark.parametrize("who", ["insp", "agent"])
def test_inspectors_and_agents_may_not_upload(app, world, tmp_path, who):
    b = as_user(app, who)
    assert b.get("/upload").status_code == 403
    assert _post_file(b, _wav(tmp_path), "x.wav").status_code == 403


def test_anonymous_users_are_sent_to_sign_in(app, world, tmp_path):
    b = Browser(app.test_client())
    b.get("/login")
    assert "/login" in b.get("/upload").headers["Location"]
    assert _post_file(b, _wav(tmp_path), "x.wav").status_code == 302


def test_an_upload_without_the_csrf_token_is_refused(app, world, tmp_path):
    b = as_user(app, "sup")
    resp = b.client.post(
        "/upload/file",
        data={"file": (io.BytesIO(_wav(tmp_path)), "x.wav")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 400


def test_the_nav_links_show_for_supervisors_only(app, world):
    assert 'id="nav-upload"' in as_user(app, "sup").get("/review").get_data(as_text=True)
    html = as_user(app, "insp").get("/queue").get_data(as_text=True)
    assert 'id="nav-upload"' not in html and 'id="nav-pipeline"' not in html
