"""scale-out: sealed keyring in the database; progress of blob-store migrations

Revision ID: 0010_keyring_db
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_keyring_db"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sealed_keks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_keks")),
    )
    op.create_table(
        "blob_copies",
        sa.Column("id", _ID, nullable=False),
        sa.Column("target", sa.String(length=512), nullable=False),
        sa.Column("blob_id", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("copied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blob_copies")),
        sa.UniqueConstraint("target", "blob_id", name=op.f("uq_blob_copies_target")),
    )


def downgrade() -> None:
    op.drop_table("blob_copies")
    op.drop_table("sealed_keks")
