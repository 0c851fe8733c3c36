"""Admin user fields are bounded (length, characters) with a Chinese message naming the field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import Team, User
from tests.web.conftest import as_user


def _counts(platform) -> tuple[int, int]:
    with platform.uow() as uow:
        s = uow.session
        return s.scalar(select(func.count(User.id))), s.scalar(select(func.count(Team.id)))


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("agent_code", "A" * 5000, "工号"),
        ("username", "u" * 65, "用户名"),
        ("display_name", "名" * 101, "显示名称"),
        ("team", "组" * 5000, "班组"),
        ("password", "p" * 300 + "x1", "密码"),
        ("password", "good-pass\x00word", "密码"),
        ("display_name", "bad\x00name", "显示名称"),
        ("username", "bad name", "用户名"),
        ("agent_code", "A0\u00a01", "工号"),
    ],
)
def test_bad_admin_user_fields_are_refused_in_chinese(app, world, platform, field, value, label):
    admin = as_user(app, "admin")
    form = {"username": "newagent", "role": "agent", "agent_code": "A900", field: value}
    before = _counts(platform)
    r = admin.post("/admin/users", form, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code < 500 and 'class="flash error"' in html
    assert label in html and field in html
    assert _counts(platform) == before


def test_team_of_an_existing_user_is_bounded(app, world, platform):
    admin = as_user(app, "admin")
    before = _counts(platform)
    r = admin.post(f"/admin/users/{world.ids['insp']}", {"team": "x" * 101}, follow_redirects=True)
    assert "班组" in r.get_data(as_text=True) and _counts(platform) == before
