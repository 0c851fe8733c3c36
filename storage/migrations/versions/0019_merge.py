"""merge auto-QA review decisions and the report roll-ups, both built on 0016

Revision ID: 0019_merge
Revises: 0017_autoqa_review, 0018_rollups
"""

revision = "0019_merge"
down_revision = ("0017_autoqa_review", "0018_rollups")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
