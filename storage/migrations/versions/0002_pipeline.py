"""pipeline: transcripts, transcript segments, call features, call speakers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("pipeline",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def _call_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["call_id"], ["calls.id"], name=op.f(f"fk_{table}_call_id_calls")
    )


def upgrade() -> None:
    op.create_table(
        "transcripts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("call_id", BigId, nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=128), nullable=False),
        sa.Column("pipeline_version", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        _call_fk("transcripts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcripts")),
        sa.UniqueConstraint("call_id", "model_version", name=op.f("uq_transcripts_call_id")),
    )
    op.create_index(op.f("ix_transcripts_call_id"), "transcripts", ["call_id"])
    op.create_table(
        "transcript_segments",
        sa.Column("id", BigId, nullable=False),
        sa.Column("transcript_id", BigId, nullable=False),
        sa.Column("call_id", BigId, nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("end", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("unreliable", sa.String(length=64), nullable=True),
        _call_fk("transcript_segments"),
        sa.ForeignKeyConstraint(
            ["transcript_id"],
            ["transcripts.id"],
            name=op.f("fk_transcript_segments_transcript_id_transcripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_segments")),
        sa.UniqueConstraint(
            "transcript_id", "idx", name=op.f("uq_transcript_segments_transcript_id")
        ),
    )
    op.create_index(op.f("ix_transcript_segments_call_id"), "transcript_segments", ["call_id"])
    op.create_index(
        op.f("ix_transcript_segments_transcript_id"), "transcript_segments", ["transcript_id"]
    )
    op.create_table(
        "call_features",
        sa.Column("id", BigId, nullable=False),
        sa.Column("call_id", BigId, nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        _call_fk("call_features"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_features")),
        sa.UniqueConstraint("call_id", "version", name=op.f("uq_call_features_call_id")),
    )
    op.create_index(op.f("ix_call_features_call_id"), "call_features", ["call_id"])
    op.create_table(
        "call_speakers",
        sa.Column("id", BigId, nullable=False),
        sa.Column("call_id", BigId, nullable=False),
        sa.Column("speaker", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("role_confidence", sa.Float(), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        _call_fk("call_speakers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_speakers")),
        sa.UniqueConstraint("call_id", "speaker", name=op.f("uq_call_speakers_call_id")),
    )
    op.create_index(op.f("ix_call_speakers_call_id"), "call_speakers", ["call_id"])


def downgrade() -> None:
    op.drop_table("call_speakers")
    op.drop_table("call_features")
    op.drop_table("transcript_segments")
    op.drop_table("transcripts")
