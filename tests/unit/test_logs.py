"""Log lines carry the ids of what is being worked on, in text and JSON."""

from __future__ import annotations

import io
import json
import logging

import pytest

from qa_platform import logs


@pytest.fixture
def stream():
    buf = io.StringIO()
    logs.configure_logging("INFO", "json", stream=buf)
    yield buf
    logs.clear()
    logs.configure_logging("WARNING", "text")


def test_json_line_carries_ids_set_by_the_entry_point(stream) -> None:
    with logs.log_context(call_id=7, user_id=3):
        logging.getLogger("qa.test").info("analysed %s", "通话")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "analysed 通话"
    assert line["call_id"] == 7 and line["user_id"] == 3
    assert line["task_id"] is None and line["job_id"] is None  # every key on every line


def test_ids_leave_with_their_context(stream) -> None:
    with logs.log_context(call_id=7):
        pass
    logging.getLogger("qa.test").info("after")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["call_id"] is None


def test_text_format_shows_ids_before_the_message() -> None:
    buf = io.StringIO()
    logs.configure_logging("INFO", "text", stream=buf)
    try:
        logs.bind(task_id="t-1", call_id=9)
        logging.getLogger("qa.test").warning("slow")
        assert "[call_id=9] [task_id=t-1] slow" in buf.getvalue()
    finally:
        logs.clear()
        logs.configure_logging("WARNING", "text")


def test_configuring_twice_keeps_one_handler() -> None:
    logs.configure_logging("INFO", "text")
    logs.configure_logging("INFO", "text")
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "qa-platform"]
    assert len(ours) == 1


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="xml"):
        logs.configure_logging("INFO", "xml")
