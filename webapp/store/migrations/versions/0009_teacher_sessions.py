"""Teacher sessions kept in the store, so signing out ends a session on every worker and instance.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teacher_sessions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("created", sa.Double, nullable=False),
        sa.Column("expires", sa.Double, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("teacher_sessions_by_expiry", "teacher_sessions", ["expires"])


def downgrade() -> None:
    op.drop_table("teacher_sessions")
