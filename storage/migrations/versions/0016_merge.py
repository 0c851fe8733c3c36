"""merge the branches built beside each other on 0010: auto-QA, scopes, centre, waveform

Revision ID: 0016_merge
Revises: 0011_autoqa, 0012_scopes, 0013_centre, 0015_waveform
"""

revision = "0016_merge"
down_revision = ("0011_autoqa", "0012_scopes", "0013_centre", "0015_waveform")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
