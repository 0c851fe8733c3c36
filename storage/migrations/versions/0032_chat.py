"""chat interactions: calls.channel (voice | chat) and the chat file's sha256 (issue 14 item 6)

Revision ID: 0032_chat
Revises: 0031_emotion
"""

import sqlalchemy as sa
from alembic import op

revision = "0032_chat"
down_revision = "0031_emotion"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=8), nullable=False, server_default="voice")
        )
        batch.add_column(sa.Column("chat_sha256", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(op.f("uq_calls_chat_sha256"), ["chat_sha256"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_constraint(op.f("uq_calls_chat_sha256"), type_="unique")
        batch.drop_column("chat_sha256")
        batch.drop_column("channel")
