"""Playback by HTTP Range through the web app with the recordings in S3 (real SeaweedFS)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from qa_platform.services.context import Platform
from storage.s3 import S3BlobStore
from tests.factories import StoryWorld, build_story_world
from tests.web.conftest import as_user
from web import create_app


@pytest.fixture
def s3_app(s3_platform: Platform) -> Iterator[Flask]:
    application = create_app({"TESTING": True})
    application.extensions["qa_platform"] = s3_platform
    yield application


@pytest.fixture
def s3_world(s3_platform: Platform, tmp_path: Path) -> StoryWorld:
    return build_story_world(s3_platform, tmp_path)


def test_range_requests_play_from_s3(s3_app: Flask, s3_world: StoryWorld, s3_platform) -> None:
    assert isinstance(s3_platform.store, S3BlobStore)
    assert not any(s3_platform.settings.blobs.glob("*/*/*"))  # nothing on the local disk
    original = s3_world.audio_path.read_bytes()
    b = as_user(s3_app, "insp")
    url = f"/calls/{s3_world.call_id}/audio"
    r = b.get(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.data == original[:100]
    assert r.headers["Content-Range"] == f"bytes 0-99/{len(original)}"
    r = b.get(url, headers={"Range": "bytes=5000-5099"})  # crosses a 4 KiB chunk boundary
    assert r.data == original[5000:5100]
    r = b.get(url, headers={"Range": "bytes=-500"})
    assert r.data == original[-500:]
    r = b.get(url, headers={"Range": "bytes=10000-"})
    assert r.status_code == 206 and r.data == original[10000:]
    assert b.get(url, headers={"Range": f"bytes={len(original)}-"}).status_code == 416


def test_download_and_waveform_from_s3(s3_app: Flask, s3_world: StoryWorld) -> None:
    b = as_user(s3_app, "sup")
    r = b.get(f"/calls/{s3_world.call_id}/audio?download=1")
    assert r.status_code == 200 and r.data == s3_world.audio_path.read_bytes()
    peaks = b.get(f"/calls/{s3_world.call_id}/waveform.json").get_json()["peaks"]
    assert len(peaks) == 600 and max(peaks) == 1.0
