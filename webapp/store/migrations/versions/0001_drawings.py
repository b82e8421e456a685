"""The drawings and what the model said about them (the store's first step, 2026).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "drawings",
        sa.Column("id", Id, sa.Identity(), primary_key=True),
        sa.Column("created", sa.Text, nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),
        sa.Column("input", sa.LargeBinary, sa.CheckConstraint("length(input) = 784"), nullable=False),
        sa.Column("label", sa.Integer, sa.CheckConstraint("label BETWEEN 0 AND 9"), nullable=False),
        sa.Column("model", sa.Text),
        sa.Column("prediction", sa.Integer, sa.CheckConstraint("prediction BETWEEN 0 AND 9")),
        sa.Column("probabilities", sa.Text),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("drawings")
