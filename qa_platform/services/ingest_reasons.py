"""Why an upload was rejected (拒收原因), as a short code a page can show in the reader's
language next to the full message.

``ingest_file`` reports a rejection as the English message of ``AudioRejected`` /
``IngestRejected`` / ``MetadataError``; those messages are written in ``audio_probe`` and
``ingest`` and each kind has a stable phrase. The phrases are pinned by
``tests/unit/test_ingest_reasons.py``: a reworded message shows as ``other``, never wrongly.
"""

from __future__ import annotations

import re

REASONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("empty", re.compile(r": file is empty$")),
    ("too_large", re.compile(r": file is \d+ bytes, over the limit")),
    ("format", re.compile(r"not a supported audio file|WAV encoding .* is not supported")),
    ("too_long", re.compile(r": longer than the limit of|decodes to more than")),
    ("too_short", re.compile(r": only [\d.]+ s of audio \(minimum")),
    ("layout", re.compile(r"channels, over the limit|sample rate \d+ Hz, over the limit")),
    (
        "corrupt",
        re.compile(
            r"truncated|cannot be decoded|no audio could be decoded|holds no audio stream"
            r"|WAV (file|header)|sample rate is|not finite numbers"
        ),
    ),
    ("external_id", re.compile(r"external id .* is already used")),
    ("unknown_people", re.compile(r"unknown (agent|team) .*\(strict mode\)")),
    ("missing", re.compile(r"no such file, or not a regular file|row has no file")),
    (
        "metadata",
        re.compile(r"(^|: )(direction|started_at|agent_channel|satisfaction|complaint) '"),
    ),
)


def rejection_reason(error: str | None) -> str:
    """The code of a rejection message: ``empty``, ``too_large``, ``format``, ``too_long``,
    ``too_short``, ``layout``, ``corrupt``, ``external_id``, ``unknown_people``, ``missing``,
    ``metadata`` (a malformed field) or ``other``."""
    text = error or ""
    for code, pattern in REASONS:
        if pattern.search(text):
            return code
    return "other"
