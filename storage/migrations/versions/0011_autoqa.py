"""auto-QA: the machine's scorecard result of every analysed call (auto_evaluations)

Revision ID: 0011_autoqa
Revises: 0010_keyring_db
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_autoqa"
down_revision = "0010_keyring_db"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "auto_evaluations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("scorecard_id", _ID, nullable=False),
        sa.Column("rule_set_version", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("red_line", sa.Boolean(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_auto_evaluations_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecards.id"],
            name=op.f("fk_auto_evaluations_scorecard_id_scorecards"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auto_evaluations")),
        sa.UniqueConstraint(
            "call_id",
            "scorecard_id",
            "rule_set_version",
            name=op.f("uq_auto_evaluations_call_id"),
        ),
    )
    op.create_index(
        op.f("ix_auto_evaluations_call_id"), "auto_evaluations", ["call_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_auto_evaluations_call_id"), table_name="auto_evaluations")
    op.drop_table("auto_evaluations")
