"""Uploads and pipeline progress in a real browser: recordings chosen on the upload page go
up one by one (XMLHttpRequest), each progress bar reaches 100 % and each file shows its result;
the pipeline page shows the counts, a dead letter with its reason, and retries it. Screenshots
at 1400 and 1024 px (``QA_SHOTS_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import served
from tests.factories import PASSWORD, build_story_world, tone_wav
from tests.helpers.job_states import dead_letter

pytestmark = pytest.mark.e2e
SHOTS = Path(
    os.environ.get(
        "QA_SHOTS_DIR",
        Path(__file__).resolve().parents[2] / "artifacts" / "screenshots" / "upload",
    )
)
REASON = "ModelUnavailable: large-v3 not installed on gpu-node-2"


def _sign_in(browser, base: str, width: int):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    problems: list[str] = []

    def response(r) -> None:  # a rejected file answers 400 by design
        if r.status >= 400 and "/upload/file" not in r.url and not r.url.endswith("favicon.ico"):
            problems.append(f"{r.status} {r.url}")

    page.on("response", response)
    page.on("pageerror", lambda e: problems.append(str(e)))

    def console(m) -> None:  # a failed load is checked by URL above
        if m.type in ("error", "warning") and not m.text.startswith("Failed to load resource"):
            problems.append(m.text)

    page.on("console", console)
    page.goto(base + "/login")
    page.fill("input[name=username]", "sup")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page, problems


def _no_horizontal_overflow(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"page is {width}px wide"


def _files(tmp_path: Path, width: int) -> list[Path]:
    first = tone_wav(tmp_path / f"来电-{width}-1.wav", 3.0, 300.0 + width % 7)
    second = tone_wav(tmp_path / f"来电-{width}-2.wav", 4.0, 520.0 + width % 5)
    bad = tmp_path / f"说明-{width}.wav"
    bad.write_text("这不是录音文件" * 30, encoding="utf-8")
    return [first, second, bad]


@pytest.mark.parametrize("width", [1400, 1024])
def test_upload_two_recordings_then_retry_on_the_pipeline_page(platform, browser, tmp_path, width):
    world = build_story_world(platform, tmp_path)
    dead_letter(platform, world.other_call_id, "transcribe", REASON)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with served(platform) as base:
        page, problems = _sign_in(browser, base, width)
        page.click("#nav-upload")
        page.set_input_files("#upload-files", [str(p) for p in _files(tmp_path, width)])
        page.fill("#meta-agent", "A001")
        page.fill("#meta-team", "一组")
        page.select_option("#meta-direction", "out")
        page.fill("#meta-business", "理赔查询")
        page.select_option("#meta-channel", "0")
        page.click("#upload-start")
        page.wait_for_selector("#upload-form[data-finished='1']", timeout=60_000)
        rows = page.locator("#upload-list tr.upl-row")
        assert rows.count() == 3
        assert page.locator("progress.upl-bar").evaluate_all("bs => bs.map(b => b.value)") == [
            100,
            100,
            100,
        ]
        assert page.locator(".upl-pct").all_inner_texts() == ["100%"] * 3
        statuses = rows.evaluate_all("rs => rs.map(r => r.dataset.status)")
        assert statuses == ["created", "created", "rejected"]
        assert "格式不支持" in rows.nth(2).inner_text()
        assert "已入库" in rows.nth(0).inner_text() and "#" in rows.nth(0).inner_text()
        assert "已完成 3/3" in page.inner_text("#upload-summary")
        _no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"upload-{width}.png"), full_page=True)

        page.click("#nav-pipeline")
        assert page.inner_text("#pipe-calls [data-status='ingested']") == "2"
        assert page.inner_text("#pipe-calls [data-status='failed']") == "1"
        stage = page.locator("#pipe-stages tr[data-stage='transcribe'] [data-job='dead_letter']")
        assert stage.inner_text() == "1"
        dead = page.locator(f"#pipe-dead tr[data-call='{world.other_call_id}']")
        assert REASON in dead.inner_text()
        _no_horizontal_overflow(page)
        page.screenshot(path=str(SHOTS / f"pipeline-{width}.png"), full_page=True)

        dead.locator("button").click()
        page.wait_for_load_state()
        assert "已重置并重新排队" in page.inner_text(".flash.ok")
        assert page.inner_text("#pipe-calls [data-status='queued']") == "1"
        assert page.locator(f"#pipe-dead tr[data-call='{world.other_call_id}']").count() == 0
        page.screenshot(path=str(SHOTS / f"pipeline-retried-{width}.png"), full_page=True)
        assert problems == []


def test_a_manifest_pairs_its_rows_with_the_chosen_files(platform, browser, tmp_path):
    build_story_world(platform, tmp_path)
    listed = tone_wav(tmp_path / "清单内.wav", 3.0, 610.0)
    unlisted = tone_wav(tmp_path / "清单外.wav", 3.0, 640.0)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "file,agent,team,direction,business_type\n"
        "recordings/清单内.wav,A002,二组,out,保全变更\n"
        "未选择.wav,A001,一组,in,理赔查询\n",
        encoding="utf-8",
    )
    with served(platform) as base:
        page, problems = _sign_in(browser, base, 1400)
        page.goto(base + "/upload")
        page.set_input_files("#upload-files", [str(listed), str(unlisted)])
        page.set_input_files("#upload-manifest", str(manifest))
        page.click("#upload-start")
        page.wait_for_selector("#upload-form[data-finished='1']", timeout=60_000)
        rows = page.locator("#upload-list tr.upl-row")
        got = rows.evaluate_all("rs => rs.map(r => [r.dataset.file, r.dataset.status])")
        assert got == [
            ["清单内.wav", "created"],
            ["未选择.wav", "rejected"],
            ["清单外.wav", "rejected"],
        ]
        assert "没有对应的已选文件" in rows.nth(1).inner_text()
        assert "清单中没有这个文件" in rows.nth(2).inner_text()
        sent = rows.evaluate_all("rs => rs.map(r => r.dataset.sent || '1')")
        assert sent == ["1", "0", "0"]  # rows decided in the page send nothing
        page.screenshot(path=str(SHOTS / "upload-manifest-1400.png"), full_page=True)
        call_id = rows.nth(0).locator("a").inner_text().lstrip("#")
        assert problems == []
    from qa_platform.queries.calls import show_call

    shown = show_call(platform, int(call_id))
    assert (shown["agent"], shown["direction"], shown["business_type"]) == (
        "A002",
        "out",
        "保全变更",
    )
