"""Rule sets stored in the database (规则集): editable, versioned copies of the flag thresholds.

The packaged ``qa_platform/data/rules/default.yaml`` is used until a rule set is imported and
activated. At most one row is active (a partial unique index enforces it). Rows are never
edited: a change is a new version.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId


class RuleSetRow(Base):
    """One imported rule set: its YAML content, hash, author and whether it is the active one."""

    __tablename__ = "rule_sets"
    __table_args__ = (
        Index(
            "uq_rule_sets_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text)  # the YAML as imported
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=False)
