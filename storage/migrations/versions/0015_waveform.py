"""pipeline: the player's waveform peaks, computed once at analysis time

Revision ID: 0015_waveform
Revises: 0010_keyring_db
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_waveform"
down_revision = "0010_keyring_db"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "call_waveforms",
        sa.Column("id", _ID, nullable=False),
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("blob_id", sa.String(length=64), nullable=False),
        sa.Column("buckets", sa.Integer(), nullable=False),
        sa.Column("peaks", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_waveforms_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_waveforms")),
        sa.UniqueConstraint("call_id", "buckets", name=op.f("uq_call_waveforms_call_id")),
    )
    op.create_index(op.f("ix_call_waveforms_call_id"), "call_waveforms", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_call_waveforms_call_id"), table_name="call_waveforms")
    op.drop_table("call_waveforms")
