"""flags: evidence as a message key and parameters (rendered in the reader's language)

Revision ID: 0008_flag_evidence
Revises: 0007
Create Date: 2026-12-01 21:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_flag_evidence"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_flags") as batch:
        batch.add_column(
            sa.Column("evidence_key", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("evidence_params", sa.JSON(), nullable=False, server_default="{}")
        )


def downgrade() -> None:
    with op.batch_alter_table("call_flags") as batch:
        batch.drop_column("evidence_params")
        batch.drop_column("evidence_key")
