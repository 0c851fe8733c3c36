"""Errors raised by the speech-processing engines.

The task layer maps them to job outcomes: :class:`BadAudio` is permanent (the call is marked
``failed`` with the message and never retried); :class:`TransientError` may be retried with
backoff (a storage hiccup, a model file briefly unavailable).
"""

from __future__ import annotations

from qa_platform.domain.errors import Invalid


class BadAudio(Invalid):
    """The input audio is corrupt, unsupported or out of bounds; retrying cannot help."""


class TransientError(RuntimeError):
    """A temporary failure; the same work may succeed when retried later."""


class ModelUnavailable(RuntimeError):
    """No usable speech model could be found or assembled (a configuration problem)."""
