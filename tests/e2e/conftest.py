"""What every browser test needs: the app served on a free port, and Debian's Chromium."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from web import create_app

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def served(platform: object) -> Iterator[str]:
    """The web app on ``platform``, served in a thread; yields its base URL."""
    app = create_app()
    app.extensions["qa_platform"] = platform
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        yield b
        b.close()


def sign_in(browser, base: str, username: str, width: int = 1400):
    """A new browser context (``width`` px wide, zh-CN) signed in as ``username``."""
    from tests.factories import PASSWORD

    ctx = browser.new_context(viewport={"width": width, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def screenshots(page, directory: Path, name: str) -> None:
    """Full-page screenshots at 1400 and 1024 px wide into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for width in (1400, 1024):
        page.set_viewport_size({"width": width, "height": 1000})
        page.screenshot(path=str(directory / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})
