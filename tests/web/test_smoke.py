"""First checks: the app builds, pages render in Chinese, login works."""

from tests.web.conftest import as_user


def test_login_and_queue_renders_chinese(app, world):
    b = as_user(app, "insp")
    r = b.get("/queue")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "我的队列" in html and 'lang="zh-CN"' in html
    r = b.get(f"/evaluations/{world.evaluation_id}")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert "平安保险" in r.get_data(as_text=True)
