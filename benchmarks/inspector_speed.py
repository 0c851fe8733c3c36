"""Submit → next call ready: the page's swap (fetch the next call's body, no page load) against
a full page load of the same evaluation page, in the same run, in Debian's Chromium.

The e2e story's data (SQLite embedded default in a temp QA_HOME) plus ``--calls`` evaluations
assigned to the inspector; the app is served in a thread as in the browser tests. For each
evaluation, in turn:

- full load: ``page.goto`` of the evaluation page until its script marks it ready
  (``<html data-evaluation-ready>``, set once the player, the suggestions and the shortcuts
  are bound);
- swap (every other evaluation): fill the scorecard, click 提交并下一通, until the next evaluation is
  marked ready (the submit's own POST, the next call's body fetched and swapped in, scripts
  bound again);
- form submit + full load (the others): the same scores posted by the plain form (the page
  without its script: POST, 303, the page loaded again), then a full load of the next call.

The swap includes the submit's save, which the plain full load does not; "form submit + full
load" is what the inspector waited for between two calls before (at best: without the trip
through the queue page).

    .venv/bin/python benchmarks/inspector_speed.py --calls 10
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

READY = "(document.documentElement || {{dataset: {{}}}}).dataset.evaluationReady === '{}'"
PLAIN_SUBMIT = """() => {
  const form = document.getElementById('score-form');
  const action = document.createElement('input');
  action.type = 'hidden'; action.name = 'action'; action.value = 'submit';
  form.appendChild(action);
  HTMLFormElement.prototype.submit.call(form);
}"""


def wait_ready(page, evaluation_id: int) -> None:  # type: ignore[no-untyped-def]
    expression = READY.format(evaluation_id)
    end = time.monotonic() + 30
    while True:
        try:
            if page.evaluate(f"() => {expression}"):
                return
        except Exception:  # the page is between two documents; poll again
            pass
        if time.monotonic() > end:
            raise TimeoutError(expression)
        time.sleep(0.005)


def fill(page) -> None:  # type: ignore[no-untyped-def]
    for el in page.query_selector_all("#score-form input.score:not([disabled])"):
        if not el.input_value():
            el.fill(el.get_attribute("max"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from benchmarks.web_load import setup
    from tests.e2e.conftest import ARGS, served
    from tests.factories import PASSWORD, evaluation_on_new_call

    with tempfile.TemporaryDirectory() as tmp:
        platform, world = setup(Path(tmp))
        ids = world.ids
        queue = [world.evaluation_id] + [
            evaluation_on_new_call(
                platform, ids["agent"], ids["insp"], ids["sup"], date(2026, 1, 5) + timedelta(n)
            )
            for n in range(args.calls)
        ]
        full: list[float] = []
        swap: list[float] = []
        plain: list[float] = []
        with served(platform) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            page.goto(base + "/login")
            page.fill("input[name=username]", "insp")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            for current, following in itertools.pairwise(queue):
                t0 = time.perf_counter()
                page.goto(f"{base}/evaluations/{current}", wait_until="commit")
                wait_ready(page, current)
                full.append(time.perf_counter() - t0)
                fill(page)
                t0 = time.perf_counter()
                if len(swap) <= len(plain):
                    page.evaluate("() => document.getElementById('submit-next').click()")
                    wait_ready(page, following)
                    swap.append(time.perf_counter() - t0)
                    continue
                with page.expect_navigation():
                    page.evaluate(PLAIN_SUBMIT)
                wait_ready(page, current)
                page.goto(f"{base}/evaluations/{following}", wait_until="commit")
                wait_ready(page, following)
                plain.append(time.perf_counter() - t0)
            browser.close()
    f, s, b = (statistics.median(x) for x in (full, swap, plain))
    print(f"evaluations: {len(full)} (swaps {len(swap)}, form submits {len(plain)})")
    for name, xs in (("full page load", full), ("swap", swap), ("form submit + full load", plain)):
        print(
            f"{name} to ready: median {statistics.median(xs) * 1000:.0f} ms, min {min(xs) * 1000:.0f}"
        )
    print(f"ratio swap / full page load: {s / f:.2f}")
    print(f"ratio swap / (form submit + full load): {s / b:.2f}")


if __name__ == "__main__":
    main()
