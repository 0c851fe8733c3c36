"""Errors a repository raises: no such row, or the row changed since it was read."""

from __future__ import annotations

from qa_platform.domain.errors import Conflict, NotFound


class NotFoundError(NotFound):
    """No row with that id or name."""


class ConcurrentUpdateError(Conflict):
    """Someone else changed the evaluation first; reload and try again."""
