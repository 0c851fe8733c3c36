"""Imports every model module so ``Base.metadata`` is complete (Alembic, tests)."""

from storage import (
    models,  # noqa: F401
    models_autoqa,  # noqa: F401
    models_coaching,  # noqa: F401  (coaching tasks, 0030_coaching)
    models_complaints,  # noqa: F401
    models_emotion,  # noqa: F401  (customer emotion, 0031_emotion)
    models_flags,  # noqa: F401
    models_pipeline,  # noqa: F401
    models_reports,  # noqa: F401
    models_rollups,  # noqa: F401  (daily report roll-ups, 0018_rollups)
    models_scaleout,  # noqa: F401
    models_scopes,  # noqa: F401  (supervision scopes, 0012_scopes)
    models_scoring,  # noqa: F401
    models_surveys,  # noqa: F401  (satisfaction surveys, 0028_surveys)
    models_web,  # noqa: F401
)
from storage.models import Base

__all__ = ["Base"]
