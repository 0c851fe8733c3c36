"""Web fixtures: a real app over the test database, users of every role, a real call."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from qa_platform.services.context import Platform
from tests.factories import StoryWorld
from tests.factories import build_story_world as build_world
from web import create_app


@pytest.fixture
def app(platform: Platform) -> Iterator[Flask]:
    application = create_app({"TESTING": True})
    application.extensions["qa_platform"] = platform
    yield application


@pytest.fixture
def world(platform: Platform, tmp_path: Path) -> StoryWorld:
    return build_world(platform, tmp_path)


@dataclass
class Browser:
    """A test client that signs in and sends the CSRF token like the real pages do."""

    client: FlaskClient

    def login(self, username: str, password: str = "pw-" + "secret1") -> Any:
        self.client.get("/login")
        return self.post("/login", {"username": username, "password": password})

    def csrf(self) -> str:
        with self.client.session_transaction() as sess:
            return str(sess.get("csrf", ""))

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        payload = {"csrf_token": self.csrf(), **(data or {})}
        return self.client.post(url, data=payload, **kw)

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


def as_user(app: Flask, username: str) -> Browser:
    b = Browser(app.test_client())
    r = b.login(username)
    assert r.status_code == 303, r.get_data(as_text=True)
    return b


def row_version(html: str) -> int:
    return int(re.search(r'name="row_version" value="(\d+)"', html).group(1))
