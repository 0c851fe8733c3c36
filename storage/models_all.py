"""Imports every model module so ``Base.metadata`` is complete (Alembic, tests)."""

from storage import models  # noqa: F401
from storage.models import Base

__all__ = ["Base"]
