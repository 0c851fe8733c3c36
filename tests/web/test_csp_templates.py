"""The pages obey their own Content-Security-Policy (``style-src 'self'; script-src 'self'``):
no inline ``style=`` attributes, inline scripts or ``on…=`` handlers in any template, since the
browser silently drops them (the report page's chart width was lost that way)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from web.security import CSP

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "web" / "templates").rglob("*.html"))
INLINE_STYLE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
# a script element without src= is inline code — except a JSON data block, which the browser
# never executes (the dashboard hands its chart data to dashboard.js that way)
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE
)


def test_the_policy_allows_no_inline_code_or_style() -> None:
    assert "'unsafe-inline'" not in CSP
    assert "style-src 'self'" in CSP and "script-src 'self'" in CSP


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_template_has_no_inline_style_script_or_handler(template: Path) -> None:
    html = template.read_text(encoding="utf-8")
    for pattern, what in (
        (INLINE_STYLE, "style= attribute"),
        (INLINE_HANDLER, "on…= handler"),
        (INLINE_SCRIPT, "inline <script>"),
    ):
        found = pattern.search(html)
        assert found is None, f"{template.name}: {what} at offset {found.start() if found else 0}"
