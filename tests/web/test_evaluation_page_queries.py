"""The evaluation page reads each row once (one session, rows held in its identity map), reads
only the people it names (not every user of the centre) and parses a scorecard version once
per process (issue 16: the page made 23 queries and re-validated the scorecard each time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

import storage.repositories.evaluations as repo
from storage.db import make_engine
from tests.factories import add_person
from tests.web.conftest import as_user

PAGE_READS = 17  # measured: policy check 3, evaluation + versions + appeals 5, call page 9
# (the call page's 9th read is the customer emotion curve, one query for all its points)


@contextmanager
def statements(platform) -> Iterator[list[str]]:
    engine = make_engine(platform.settings.database_url)
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.startswith("SELECT") and "audit_head" not in s]


def test_the_page_reads_each_row_once_and_not_every_user(app, world, platform):
    b = as_user(app, "insp")
    url = f"/evaluations/{world.evaluation_id}"
    assert b.get(url).status_code == 200  # warm: login, caches
    with statements(platform) as first:
        assert b.get(url).status_code == 200
    reads = _reads(first)
    assert len(reads) <= PAGE_READS, "\n".join(reads)
    page_reads = reads[3:]  # after the policy check's own session
    assert sum(s.startswith("SELECT evaluations.") for s in page_reads) == 1, page_reads
    assert sum(s.startswith("SELECT scorecards.") for s in page_reads) == 1, page_reads
    assert sum(s.startswith("SELECT auto_evaluations.") for s in page_reads) <= 1, page_reads

    for n in range(40):  # a bigger centre: the page must not read more because of it
        add_person(platform, f"agent{n:03d}", "agent", "一组", f"B{n:03d}")
    with statements(platform) as second:
        assert b.get(url).status_code == 200
    assert len(_reads(second)) == len(reads)
    assert not [s for s in _reads(second) if s.startswith("SELECT users.") and "WHERE" not in s]


def test_a_scorecard_version_is_parsed_once_per_process(app, world, platform, monkeypatch):
    b = as_user(app, "insp")
    url = f"/evaluations/{world.evaluation_id}"
    repo._CARDS.clear()
    parsed: list[str] = []
    real = repo.scorecard_from_mapping

    def counting(data):
        parsed.append(str(data.get("name")))
        return real(data)

    monkeypatch.setattr(repo, "scorecard_from_mapping", counting)
    for _ in range(3):
        assert b.get(url).status_code == 200
    assert len(parsed) == 1, parsed


def test_transcript_roles_read_in_chinese_without_the_english_channel_name(app, world):
    import re

    html = as_user(app, "insp").get(f"/evaluations/{world.evaluation_id}").get_data(as_text=True)
    who = re.findall(r'<span class="who">([^<]*)</span>', html)
    assert who, "the page shows no transcript"
    assert all(w.split(" (")[0] in ("坐席", "客户", "未知") for w in who), who
    assert not [w for w in who if w.endswith("(agent)") or w.endswith("(customer)")], who
