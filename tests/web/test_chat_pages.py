"""A chat on the inspector's pages: the conversation instead of the player, no audio route."""

from __future__ import annotations

import io

from storage.models import Call
from tests.helpers.chat import CHAT_FIXTURE, chat_evaluation
from tests.web.conftest import as_user


def test_the_evaluation_page_of_a_chat_shows_the_messages_and_no_player(app, world, platform):
    _call_id, evaluation_id = chat_evaluation(platform, world.ids["sup"], world.ids["insp"])
    html = as_user(app, "insp").get(f"/evaluations/{evaluation_id}").get_data(as_text=True)
    assert 'id="chat-messages"' in html and "智能客服" in html
    assert "都一个月了还在审核" in html  # a customer message, as written
    assert "[手机号]" in html and "13812345678" not in html
    assert 'class="msg role-customer who-customer flagged"' in html  # the 我要投诉 message
    assert "<audio" not in html and 'id="waveform"' not in html


def test_the_call_page_of_a_chat_shows_the_conversation(app, world, platform):
    call_id, _ = chat_evaluation(platform, world.ids["sup"], world.ids["insp"])
    html = as_user(app, "sup").get(f"/calls/{call_id}").get_data(as_text=True)
    assert 'id="chat-messages"' in html and "<audio" not in html
    assert "download=1" not in html  # no recording to download


def test_the_audio_of_a_chat_is_a_404_that_says_why(app, world, platform):
    call_id, _ = chat_evaluation(platform, world.ids["sup"], world.ids["insp"])
    resp = as_user(app, "sup").get(f"/calls/{call_id}/audio")
    assert resp.status_code == 404
    assert "chat" in resp.get_data(as_text=True)
    voice = as_user(app, "sup").get(f"/calls/{world.call_id}/audio")
    assert voice.status_code == 200


def test_the_api_takes_a_jsonl_upload_as_a_chat_and_names_a_bad_line(app, world, platform):
    sup = as_user(app, "sup")

    def upload(data: bytes, name: str, **meta: str):  # the API takes the token in a header
        form = {"file": (io.BytesIO(data), name), **meta}
        return sup.client.post("/api/v1/calls", data=form, headers={"X-CSRF-Token": sup.csrf()})

    good = CHAT_FIXTURE.read_bytes()
    resp = upload(good, "客服对话.jsonl", agent="A001")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    call_id = resp.get_json()["call_id"]
    with platform.uow() as uow:
        assert uow.session.get(Call, call_id).channel == "chat"  # type: ignore[union-attr]
    bad = good + b'{"time": 1, "role": "bot", "text": ""}\n'
    resp = upload(bad, "bad.jsonl")
    assert resp.status_code == 400
    assert "bad.jsonl:11: text must be a non-empty string" in resp.get_json()["error"]
