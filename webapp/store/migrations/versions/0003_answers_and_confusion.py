"""Each model version's answer to each drawing, and how often each label got each answer.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("drawing_id", Id, primary_key=True),
        sa.Column("digit", sa.Integer, sa.CheckConstraint("digit BETWEEN 0 AND 9"), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("answers_by_drawing", "answers", ["drawing_id"])
    op.create_table(
        "confusion",
        sa.Column("model", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("label", sa.Integer, primary_key=True),
        sa.Column("digit", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, sa.CheckConstraint("count >= 0"), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("confusion")
    op.drop_index("answers_by_drawing", "answers")
    op.drop_table("answers")
