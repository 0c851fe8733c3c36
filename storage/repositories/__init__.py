"""Repositories: the row ↔ domain mapping of an aggregate, behind ``get`` and ``save``.

A repository only queries and adds in the caller's session; the unit of work commits.
"""

from __future__ import annotations

from storage.repositories.errors import ConcurrentUpdateError, NotFoundError
from storage.repositories.evaluations import SqlEvaluationRepository, StoredEvaluation
from storage.repositories.sampling_runs import SqlSamplingRunRepository, StoredRun

__all__ = [
    "ConcurrentUpdateError",
    "NotFoundError",
    "SqlEvaluationRepository",
    "SqlSamplingRunRepository",
    "StoredEvaluation",
    "StoredRun",
]
