"""centre workflows: complaint cases (投诉工单) and the calls they concern

Revision ID: 0013_centre
Revises: 0010_keyring_db
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_centre"
down_revision = "0010_keyring_db"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "complaint_cases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", _WHEN, nullable=False),
        sa.Column("deadline_at", _WHEN, nullable=False),
        sa.Column("alerted_at", _WHEN, nullable=True),
        sa.Column("alert_channel", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", _WHEN, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_cases")),
    )
    op.create_index(
        "ix_complaint_cases_state_deadline", "complaint_cases", ["state", "deadline_at"]
    )
    op.create_table(
        "complaint_calls",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("linked_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["complaint_cases.id"],
            name=op.f("fk_complaint_calls_case_id_complaint_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_complaint_calls_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_calls")),
        sa.UniqueConstraint("case_id", "call_id", name=op.f("uq_complaint_calls_case_id")),
    )
    op.create_index(op.f("ix_complaint_calls_case_id"), "complaint_calls", ["case_id"])
    op.create_index(op.f("ix_complaint_calls_call_id"), "complaint_calls", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_complaint_calls_call_id"), table_name="complaint_calls")
    op.drop_index(op.f("ix_complaint_calls_case_id"), table_name="complaint_calls")
    op.drop_table("complaint_calls")
    op.drop_index("ix_complaint_cases_state_deadline", table_name="complaint_cases")
    op.drop_table("complaint_cases")
