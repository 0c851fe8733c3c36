"""coaching loop: coaching tasks, team leads, agents' hire dates (issue 14 item 2)

Revision ID: 0030_coaching
Revises: 0029_business_lines
"""

import sqlalchemy as sa
from alembic import op

revision = "0030_coaching"
down_revision = "0029_business_lines"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hire_date", sa.Date(), nullable=True))
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_teams_lead_id_users"), "users", ["lead_id"], ["id"]
        )
    op.create_table(
        "coaching_tasks",
        sa.Column("id", _ID, nullable=False),
        sa.Column("evaluation_id", _ID, nullable=False),
        sa.Column("call_id", _ID, nullable=False),
        sa.Column("agent_id", _ID, nullable=False),
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("lead_id", _ID, nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", _AT, nullable=False),
        sa.Column("acknowledged_at", _AT, nullable=True),
        sa.Column("coached_by", _ID, nullable=True),
        sa.Column("coached_at", _AT, nullable=True),
        sa.Column("coaching_note", sa.Text(), nullable=False),
        sa.Column("follow_up_evaluation_id", _ID, nullable=True),
        sa.Column("follow_up_passed", sa.Boolean(), nullable=True),
        sa.Column("closed_at", _AT, nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f("fk_coaching_tasks_agent_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_coaching_tasks_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["coached_by"], ["users.id"], name=op.f("fk_coaching_tasks_coached_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_coaching_tasks_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_coaching_tasks_follow_up_evaluation_id_evaluations"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["users.id"], name=op.f("fk_coaching_tasks_lead_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_coaching_tasks_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coaching_tasks")),
        sa.UniqueConstraint("evaluation_id", name=op.f("uq_coaching_tasks_evaluation_id")),
    )
    with op.batch_alter_table("coaching_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coaching_tasks_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index("ix_coaching_tasks_state_team", ["state", "team_id"], unique=False)


def downgrade() -> None:
    op.drop_table("coaching_tasks")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_teams_lead_id_users"), type_="foreignkey")
        batch_op.drop_column("lead_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("hire_date")
