"""reports: daily roll-ups of calls and flags per local day × cell (issue 16, ten million calls)

Revision ID: 0018_rollups
Revises: 0016_merge
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_rollups"
down_revision = "0016_merge"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _cell() -> list[sa.Column]:
    return [
        sa.Column("id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("team_id", _ID, nullable=True),
        sa.Column("agent_id", _ID, nullable=True),
        sa.Column("agent_code", sa.String(length=32), nullable=True),
        sa.Column("business_type", sa.String(length=64), nullable=False),
    ]


def _keys(table: str) -> list[sa.Constraint]:
    return [
        sa.ForeignKeyConstraint(
            ["agent_id"], ["users.id"], name=op.f(f"fk_{table}_agent_id_users")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f(f"fk_{table}_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


FRAME_PREDICATE = "purged_at IS NULL AND status = 'analysed'"


def upgrade() -> None:
    op.create_index(
        "ix_calls_sampling_frame",
        "calls",
        ["started_at", "id"],
        postgresql_where=sa.text(FRAME_PREDICATE),
        sqlite_where=sa.text(FRAME_PREDICATE),
    )
    op.create_table(
        "report_daily_calls",
        *_cell(),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("analysed", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        *_keys("report_daily_calls"),
    )
    op.create_index("ix_report_daily_calls_day_agent", "report_daily_calls", ["day", "agent_id"])
    op.create_table(
        "report_daily_flags",
        *_cell(),
        sa.Column("flag_type", sa.String(length=32), nullable=False),
        sa.Column("rule_set_version", sa.String(length=64), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        *_keys("report_daily_flags"),
    )
    op.create_index("ix_report_daily_flags_day_agent", "report_daily_flags", ["day", "agent_id"])
    op.create_table(
        "report_rollup_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("complete_from", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_rollup_state")),
    )


def downgrade() -> None:
    op.drop_index("ix_calls_sampling_frame", table_name="calls")
    op.drop_table("report_rollup_state")
    op.drop_index("ix_report_daily_flags_day_agent", table_name="report_daily_flags")
    op.drop_table("report_daily_flags")
    op.drop_index("ix_report_daily_calls_day_agent", table_name="report_daily_calls")
    op.drop_table("report_daily_calls")
