"""auto-QA review: the inspector's decision on each machine suggestion (accepted / overridden)

Revision ID: 0017_autoqa_review
Revises: 0016_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_autoqa_review"
down_revision = "0016_merge"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TABLE = "autoqa_suggestion_decisions"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", _ID, nullable=False),
        sa.Column("evaluation_id", _ID, nullable=False),
        sa.Column("auto_evaluation_id", _ID, nullable=True),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("suggested_score", sa.Float(), nullable=True),
        sa.Column("suggested_violated", sa.Boolean(), nullable=False),
        sa.Column("entered_score", sa.Float(), nullable=True),
        sa.Column("entered_violated", sa.Boolean(), nullable=False),
        sa.Column("entered_na", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", _ID, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_autoqa_suggestion_decisions_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["auto_evaluation_id"],
            ["auto_evaluations.id"],
            name=op.f("fk_autoqa_suggestion_decisions_auto_evaluation_id_auto_evaluations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_autoqa_suggestion_decisions_decided_by_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autoqa_suggestion_decisions")),
        sa.UniqueConstraint(
            "evaluation_id", "item_code", name=op.f("uq_autoqa_suggestion_decisions_evaluation_id")
        ),
    )
    op.create_index(
        op.f("ix_autoqa_suggestion_decisions_evaluation_id"),
        _TABLE,
        ["evaluation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_autoqa_suggestion_decisions_evaluation_id"), table_name=_TABLE)
    op.drop_table(_TABLE)
