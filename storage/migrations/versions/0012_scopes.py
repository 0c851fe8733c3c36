"""supervision scopes: the agent teams a supervisor oversees (or the whole centre)

Revision ID: 0012_scopes
Revises: 0010_keyring_db
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_scopes"
down_revision = "0010_keyring_db"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "supervision_scopes",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("all_teams", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_supervision_scopes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_supervision_scopes")),
    )
    op.create_table(
        "supervision_scope_teams",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("team_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["supervision_scopes.user_id"],
            name=op.f("fk_supervision_scope_teams_user_id_supervision_scopes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_supervision_scope_teams_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("user_id", "team_id", name=op.f("pk_supervision_scope_teams")),
    )
    op.create_index(
        op.f("ix_supervision_scope_teams_team_id"),
        "supervision_scope_teams",
        ["team_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_supervision_scope_teams_team_id"), table_name="supervision_scope_teams"
    )
    op.drop_table("supervision_scope_teams")
    op.drop_table("supervision_scopes")
