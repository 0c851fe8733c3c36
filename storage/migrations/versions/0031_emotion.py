"""customer emotion per transcript segment (issue 13 item 7)

Revision ID: 0031_emotion
Revises: 0030_coaching
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_emotion"
down_revision = "0030_coaching"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "segment_emotions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("transcript_id", _ID, nullable=False),
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("segment_idx", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text_score", sa.Float(), nullable=False),
        sa.Column("arousal", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["transcripts.id"],
            name=op.f("fk_segment_emotions_transcript_id_transcripts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_segment_emotions_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segment_emotions")),
        sa.UniqueConstraint(
            "transcript_id", "segment_idx", name=op.f("uq_segment_emotions_transcript_id")
        ),
    )
    op.create_index(
        op.f("ix_segment_emotions_transcript_id"), "segment_emotions", ["transcript_id"]
    )
    op.create_index(op.f("ix_segment_emotions_call_id"), "segment_emotions", ["call_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_segment_emotions_call_id"), table_name="segment_emotions")
    op.drop_index(op.f("ix_segment_emotions_transcript_id"), table_name="segment_emotions")
    op.drop_table("segment_emotions")
