"""business lines: business type → scorecard (issue 14 item 5)

Revision ID: 0029_business_lines
Revises: 0028_surveys
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_business_lines"
down_revision = "0028_surveys"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "business_lines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("business_type", sa.String(length=64), nullable=False),
        sa.Column("scorecard_name", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_lines")),
        sa.UniqueConstraint("business_type", name=op.f("uq_business_lines_business_type")),
    )


def downgrade() -> None:
    op.drop_table("business_lines")
