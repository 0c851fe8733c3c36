"""surveys: satisfaction survey answers imported after the call; rated/satisfied in the daily
roll-up (issue 14 item 4: A.1 客户满意度 over every customer who rated)

The roll-up's new columns cannot be counted here (days are local to the centre's time zone),
so the roll-up's coverage row is removed: reports read the raw tables until
``qa report rollup --rebuild`` counts them again.

Revision ID: 0028_surveys
Revises: 0019_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_surveys"
down_revision = "0019_merge"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", _ID, nullable=False),
        sa.Column("survey_id", sa.String(length=128), nullable=False),
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_survey_responses_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("survey_id", name=op.f("uq_survey_responses_survey_id")),
    )
    op.create_index("ix_survey_responses_call", "survey_responses", ["call_id", "answered_at"])
    with op.batch_alter_table("report_daily_calls") as batch:
        batch.add_column(sa.Column("rated", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("satisfied", sa.Integer(), nullable=False, server_default="0"))
    op.execute("DELETE FROM report_rollup_state")


def downgrade() -> None:
    with op.batch_alter_table("report_daily_calls") as batch:
        batch.drop_column("satisfied")
        batch.drop_column("rated")
    op.drop_index("ix_survey_responses_call", table_name="survey_responses")
    op.drop_table("survey_responses")
