"""Playback audit (放音审计) is deduplicated in the database, per user × call within a window."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from qa_platform.clock import FixedClock
from qa_platform.services.media import PLAYBACK_WINDOW
from storage.models import AuditEvent
from tests.web.conftest import as_user
from web import create_app


def _plays(platform, actor: str | None = None) -> int:
    stmt = select(func.count(AuditEvent.id)).where(AuditEvent.action == "call.audio_play")
    if actor is not None:
        stmt = stmt.where(AuditEvent.actor == actor)
    with platform.uow() as uow:
        return int(uow.session.scalar(stmt) or 0)


def test_fifty_ranges_with_cookie_replay_write_one_row_per_user_and_window(app, world, platform):
    clock = FixedClock(platform.clock.now())
    platform.clock = clock
    url, size = f"/calls/{world.call_id}/audio", world.audio_path.stat().st_size
    insp = as_user(app, "insp")
    first_cookie = insp.client.get_cookie("qa_session").value  # before any playback
    rnd = random.Random(12)
    for n in range(50):
        start = 0 if n % 2 == 0 else rnd.randrange(0, size - 1)
        r = insp.get(url, headers={"Range": f"bytes={start}-"})
        assert r.status_code == 206
        if n % 5 == 0:  # an old cookie replayed: it must not reopen a playback session
            insp.client.set_cookie("qa_session", first_cookie, domain="localhost")
    # A second process (another app on the same database) with the replayed cookie.
    other = create_app({"TESTING": True})
    other.extensions["qa_platform"] = platform
    c2 = other.test_client()
    c2.set_cookie("qa_session", first_cookie, domain="localhost")
    assert c2.get(url, headers={"Range": "bytes=0-"}).status_code == 206
    actor = f"user:{world.ids['insp']}"
    assert _plays(platform, actor) == 1

    sup = as_user(app, "sup")
    assert sup.get(url, headers={"Range": "bytes=0-"}).status_code == 206
    assert sup.get(url, headers={"Range": "bytes=0-"}).status_code == 206
    assert _plays(platform, f"user:{world.ids['sup']}") == 1 and _plays(platform) == 2

    clock.advance(PLAYBACK_WINDOW + timedelta(seconds=1))
    insp = as_user(app, "insp")  # signing in again does not matter: the window has passed
    assert insp.get(url, headers={"Range": "bytes=0-"}).status_code == 206
    assert insp.get(url, headers={"Range": "bytes=100-"}).status_code == 206
    assert _plays(platform, actor) == 2


def test_another_call_is_its_own_playback(app, world, platform):
    insp = as_user(app, "sup")
    for call_id in (world.call_id, world.other_call_id, world.call_id):
        assert insp.get(f"/calls/{call_id}/audio", headers={"Range": "bytes=0-"}).status_code == 206
    assert _plays(platform) == 2


def test_concurrent_first_plays_of_one_user_write_one_row(world, platform):
    import threading

    from qa_platform.services.media import audit_playback
    from storage.audit import verify_chain

    written: list[bool] = []

    def play() -> None:
        for _ in range(5):
            written.append(audit_playback(platform, "user:77", world.call_id))

    threads = [threading.Thread(target=play) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert written.count(True) == 1 and len(written) == 30
    assert _plays(platform, "user:77") == 1
    with platform.uow() as uow:
        assert verify_chain(uow.session).ok
